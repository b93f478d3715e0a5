"""All models, imported here so Alembic and the app see every table."""
from app.models import guards  # noqa: E402,F401 - triggers and exclusion constraints
from app.models.base import local_today, to_local, utc_start_of, utcnow
from app.models.catalog import Client, Product, ProductRate, ProductStep, ProductStepRate, StoredFile
from app.models.invoicing import CreditNote, Invoice, InvoiceLine, NumberCounter, Payment
from app.models.org import KEY_GROUPS, ApiToken, EndedSession, LoginThrottle, Station, User, Worker
from app.models.production import Batch, Order, OrderDayTally, OrderStep, Return, ReturnMonth
from app.models.system import (
    AuditEvent,
    IdempotencyKey,
    InsurancePolicy,
    JobRun,
    Notice,
    PolicyCoverage,
    Setting,
)
from app.models.wages import Adjustment, PayPeriod, PayPeriodReopening, Payslip, PayslipLine, StatementsPdf

__all__ = [
    "KEY_GROUPS", "Adjustment", "ApiToken", "AuditEvent", "EndedSession", "Batch", "Client", "CreditNote",
    "IdempotencyKey", "InsurancePolicy", "Invoice", "InvoiceLine", "JobRun", "LoginThrottle",
    "Notice", "NumberCounter", "Order", "OrderDayTally", "OrderStep", "PayPeriod", "PayPeriodReopening", "Payment",
    "Payslip", "PayslipLine", "PolicyCoverage", "Product", "ProductRate", "ProductStep", "ProductStepRate", "Return", "ReturnMonth",
    "Setting", "StatementsPdf", "Station", "StoredFile", "User", "Worker", "local_today", "to_local", "utc_start_of", "utcnow",
]
