"""Extension objects, created unbound and initialised in ``create_app``."""
from typing import TYPE_CHECKING

from flask_babel import Babel
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy import MetaData

# Named constraints so that Alembic (and SQLite batch mode) can find them again.
naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

db = SQLAlchemy(metadata=MetaData(naming_convention=naming_convention))
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()

if TYPE_CHECKING:
    from typing import ClassVar

    from sqlalchemy import Table
    from sqlalchemy.orm import DeclarativeBase

    class Model(DeclarativeBase):
        """``db.Model`` as the type checker sees it (Flask-SQLAlchemy builds it at run time):
        every model here is mapped to a Table."""

        __table__: ClassVar[Table]
else:
    Model = db.Model
