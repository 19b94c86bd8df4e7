"""The rooms' commands, mounted on the `lienwatch` app: they build Settings and hand each room plain arguments."""
