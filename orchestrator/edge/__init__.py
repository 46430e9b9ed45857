"""I/O of the cluster's SIP front door (Kamailio): its files, its process, its control socket."""
