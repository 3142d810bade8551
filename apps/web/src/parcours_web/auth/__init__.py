"""Users, roles, login, sessions, guards and API tokens."""
