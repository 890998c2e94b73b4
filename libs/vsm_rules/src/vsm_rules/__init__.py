"""The rules of licensing and time, written once: pure code, standard library only."""
