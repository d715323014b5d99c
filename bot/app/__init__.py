"""Wiring: the Application, its services, the update processor, the HTTP request."""
