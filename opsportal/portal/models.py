"""The portal owns no tables: it is a door onto the other apps."""
