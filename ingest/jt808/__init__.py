"""JT/T 808 terminals: the TCP gateway, its pure session per connection, what the store keeps (codec: wire.jt808)."""
