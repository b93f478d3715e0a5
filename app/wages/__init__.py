"""Wages: pay periods, adjustments, pay statements, payroll export and the worker's phone."""
