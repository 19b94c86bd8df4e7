"""The `lienwatch` command's sub-commands that are no room's own (API users and their tokens)."""
