"""Model fields for personal data (issue #16): encrypted at rest, and their blind index.

``EncryptedTextField`` reads and writes the clear value in Python and stores the ciphertext
(promo.core.crypto) in a text column; the history triggers copy the column, so the event
tables hold ciphertext too. Only ``isnull``, a comparison with "" and the history triggers'
distinct-from work as lookups: any
other would compare a ciphertext and silently match nothing, so it is refused — match a
value through its ``BlindIndexField`` instead.

``BlindIndexField`` fills itself from its source field whenever the row is written
(``save()`` and ``bulk_create`` both call ``pre_save``).
"""

from __future__ import annotations

from typing import Any

from django.core import validators
from django.core.exceptions import FieldError
from django.db import models
from django.db.models.lookups import Exact

from . import crypto


class _BlankOnlyExact(Exact):  # type: ignore[type-arg]
    def get_prep_lookup(self) -> Any:
        if self.rhs not in ("", None):
            raise FieldError(
                f"{self.lhs.target.name} is encrypted: match it through its blind index."
            )
        return super().get_prep_lookup()


class Decrypted(str):
    """A clear value read from the database, carrying its stored ciphertext: saved unchanged,
    the row keeps the same ciphertext (Fernet's differ at every encryption, and the history
    would otherwise record a change of every encrypted field at every save)."""

    stored: str = ""


def _decrypted(stored: str) -> str:
    clear = crypto.decrypt(stored)
    if not crypto.is_encrypted(stored):
        return clear
    value = Decrypted(clear)
    value.stored = stored
    return value


class EncryptedTextField(models.TextField):  # type: ignore[type-arg]
    """A personal datum stored encrypted; ``max_length`` limits the clear value (forms)."""

    description = "Text encrypted at rest (Fernet)"

    def __init__(self, *args: Any, email: bool = False, **kwargs: Any) -> None:
        self.email = email
        if email:
            kwargs.setdefault("validators", [validators.validate_email])
        super().__init__(*args, **kwargs)

    def deconstruct(self) -> Any:
        name, path, args, kwargs = super().deconstruct()
        if self.email:
            kwargs["email"] = True
            kwargs.pop("validators", None)
        return name, path, args, kwargs

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> Any:
        if value is None:
            return value
        return _decrypted(value)

    def to_python(self, value: Any) -> Any:
        value = super().to_python(value)
        if isinstance(value, str) and crypto.is_encrypted(value):
            return crypto.decrypt(value)
        return value

    def pre_save(self, model_instance: models.Model, add: bool) -> Any:
        value = getattr(model_instance, self.attname)
        if isinstance(value, Decrypted) and value.stored:
            return value.stored
        return value

    def get_prep_value(self, value: Any) -> Any:
        if isinstance(value, Decrypted) and value.stored:
            return value.stored  # unchanged since it was read: the same ciphertext
        if value is None or value == "":
            return value
        value = str(value)
        if crypto.is_encrypted(value):
            return value  # already stored form (a rotation writes these)
        return crypto.encrypt(value)

    def get_lookup(self, lookup_name: str) -> Any:
        if lookup_name == "exact":
            return _BlankOnlyExact
        # isnull, and pgtrigger's distinct-from (the history triggers' conditions): these
        # compare the stored columns, which is what they mean.
        if lookup_name in {"isnull", "df", "ndf"}:
            return super().get_lookup(lookup_name)
        return None

    def formfield(self, **kwargs: Any) -> Any:  # type: ignore[override]
        # A one-line input (not a textarea), an e-mail input for the e-mail.
        from django import forms

        defaults: dict[str, Any] = {
            "form_class": forms.EmailField if self.email else forms.CharField,
            "max_length": self.max_length,
        }
        defaults.update(kwargs)
        return models.Field.formfield(self, **defaults)


class BlindIndexField(models.CharField):  # type: ignore[type-arg]
    """HMAC of another field's normalised value (promo.core.crypto.blind_index)."""

    def __init__(self, *args: Any, source: str = "", kind: str = "", **kwargs: Any) -> None:
        self.source = source
        self.kind = kind
        kwargs.setdefault("max_length", 64)
        kwargs.setdefault("editable", False)
        kwargs.setdefault("blank", True)
        kwargs.setdefault("default", "")
        super().__init__(*args, **kwargs)

    def deconstruct(self) -> Any:
        name, path, args, kwargs = super().deconstruct()
        kwargs["source"] = self.source
        kwargs["kind"] = self.kind
        for key, default in (("max_length", 64), ("editable", False), ("blank", True)):
            if kwargs.get(key) == default:
                kwargs.pop(key)
        if kwargs.get("default") == "":
            kwargs.pop("default")
        return name, path, args, kwargs

    def pre_save(self, model_instance: models.Model, add: bool) -> str:
        value = crypto.blind_index(self.kind, getattr(model_instance, self.source))
        setattr(model_instance, self.attname, value)
        return value
