"""Law as data: a controlled vocabulary and statute YAML files, loaded by a strict typed loader."""
