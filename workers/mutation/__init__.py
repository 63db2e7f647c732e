"""Mutation testing of the checkpoint suites (``autograder suite mutate``): how many bugs
planted in the reference's solution blocks each module's suite catches.  See
docs/OPERATORS.md for how instructors use it."""
