"""Users, roles, sign-in, sessions, machine clients and bearer tokens."""
