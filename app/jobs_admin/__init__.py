"""Scheduled jobs for the admin (history, run now, the auto-close switch) and the
supervisor's notices."""
