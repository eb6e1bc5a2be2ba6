"""The declarative base every table shares, and the column types the migrations name."""

from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

from roost.store.columns import Json as Json
from roost.store.columns import TurnStatusColumn as TurnStatusColumn
from roost.store.columns import UtcDateTime as UtcDateTime

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
