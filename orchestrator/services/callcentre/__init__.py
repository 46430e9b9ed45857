"""Call centres at run time: queue configuration reloads, agent states, night service and the
supervisor's actions, all over AMI (no dialplan reload)."""
