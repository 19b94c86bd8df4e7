"""JT/T 808 terminals: framing, header, codec and location mapping (pure), and the TCP gateway shell."""
