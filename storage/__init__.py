"""Storage: connections, ordered migrations, the positions layout and every SQL statement."""
