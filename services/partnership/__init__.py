"""The partnership service: a gmina's partner team (G-PZK) as a first-class object."""
