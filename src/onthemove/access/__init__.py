"""Access: who may do what (roles, place scopes), users and tokens, and the tamper-evident audit log."""
