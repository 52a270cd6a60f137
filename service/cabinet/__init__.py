"""The back office: sign-in, sessions, tokens, permissions and the cabinets
of the operator, moderators, authorized bodies and organizations."""
