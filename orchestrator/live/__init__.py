"""The live call controller: follows calls over AMI, keeps live figures in Redis, writes call
records, enforces the 090x maximum duration as a second line behind the dialplan."""
