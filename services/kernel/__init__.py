"""The pure kernel every service shares: work calendar, Bahasa Indonesia wording, rule sets,
the absence vocabulary and the domain error base. No framework, no clock, no I/O beyond
reading the shipped rule set files."""
