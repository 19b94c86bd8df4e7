"""JT/T 808 on the wire: framing, header, field encodings, location reports and platform messages (pure)."""
