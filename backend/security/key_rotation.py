"""Re-encrypting every stored secret under a new key (`python -m backend.cli secrets rotate`).

Every `*_encrypted` column of every table (channel and payment provider credentials, TOTP
secrets, and any added later) is read with the old keys and written with the new one, all in
the caller's transaction: either every value moves to the new key or none does.
"""

from __future__ import annotations

from cryptography.fernet import InvalidToken
from sqlmodel import Session

from backend.core.crypto import encryption_keys, multi_fernet
from backend.security import repository as repo
from backend.security.service import SecurityError, record


def rotate_secrets(
    session: Session, *, new_key: str | None = None, old_keys: list[str] | None = None
) -> dict[str, int]:
    """Re-encrypt every stored secret with `new_key`, reading with `new_key` and `old_keys`.

    Without arguments the configured ENCRYPTION_KEYS are used: the first one encrypts.
    Returns how many values each `table.column` had. SecurityError, naming the row, when a
    value cannot be read with any of the keys (nothing is changed then).
    """
    if new_key is None and old_keys:
        raise SecurityError("Give --new-key together with --old-key.", field="new_key")
    keys = [new_key, *(old_keys or [])] if new_key is not None else encryption_keys()
    try:
        fernet = multi_fernet([k for k in keys if k is not None])
    except ValueError as exc:
        raise SecurityError(f"{exc} Pass a long random string.", field="new_key") from None
    counts: dict[str, int] = {}
    for table, column in repo.encrypted_columns():
        name = f"{table.name}.{column.name}"
        counts[name] = 0
        for row_id, ciphertext in repo.list_encrypted_values(session, table=table, column=column):
            try:
                rotated = fernet.rotate(ciphertext.encode()).decode()
            except InvalidToken:
                raise SecurityError(
                    f"{name} of row {row_id} cannot be decrypted with the keys given; add the key "
                    "it was encrypted with to --old-key (or ENCRYPTION_KEYS). Nothing was changed.",
                    field="old_key",
                ) from None
            repo.update_encrypted_value(
                session, table=table, column=column, row_id=row_id, value=rotated
            )
            counts[name] += 1
    session.flush()
    for business_id in repo.list_business_ids(session):
        record(session, business_id=business_id, action="secrets.rotated",
               details={"values": sum(counts.values())})  # fmt: skip
    return counts
