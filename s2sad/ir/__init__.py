"""s2sad's program representation: node types (:mod:`.nodes`), walking and
substitution (:mod:`.visit`), rendering to source (:mod:`.render`)."""
