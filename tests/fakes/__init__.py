"""In-process fakes of external services, served through the clients' own transports."""
