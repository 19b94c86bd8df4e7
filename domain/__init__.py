"""The domain model shared by every room: ids, vocabulary, positions, devices and loans."""
