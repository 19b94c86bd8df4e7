"""Wire formats trackers speak, as pure codecs below the rooms that use them."""
