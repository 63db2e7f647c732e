"""What the sides agree on, with no heavy imports: the suite results document (its one builder
and its validator), the module ids, and the catalogue of check ids. Both the workers and the
service import it; it imports neither."""
