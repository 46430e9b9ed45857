"""The REST API (aiohttp): service numbers, plans, simulation, blacklists, history, announcements."""
