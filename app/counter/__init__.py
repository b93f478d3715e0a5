"""The counter tablet offline (rule 13): the service worker, the data the tablet keeps, and the
JSON endpoints its outbox replays through, under the supervisor's session."""
