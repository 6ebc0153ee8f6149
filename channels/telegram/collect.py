"""The "text plus files, then Завершить" step shared by ticket creation and replies."""
from __future__ import annotations

from engine.attachments import Upload
from engine.catalog.catalog import Field
from engine.forms import validate_field

from channels.telegram.downloads import TELEGRAM_DOWNLOAD_LIMIT_MB, FileTooBig
from channels.telegram.events import Ctx, FileRef
from channels.telegram.state import Collecting, StoredFile


def add_text(ctx: Ctx, collecting: Collecting, text: str, text_field: Field | None) -> str | None:
    """Append a piece of text; returns the engine's error message when the whole would be invalid."""
    combined = "\n\n".join(p for p in (collecting.text, text.strip()) if p)
    if text_field is not None:
        error = validate_field(ctx.catalog, text_field, combined, ctx.locale)
        if error:
            return error
    collecting.text = combined
    return None


def add_file(ctx: Ctx, collecting: Collecting, ref: FileRef, files_field: Field) -> str | None:
    """Check and remember one file (by file_id); returns a refusal the user understands, or None."""
    if len(collecting.files) >= files_field.max_files:
        return ctx.t("file_refused", name=ref.name,
                     reason=ctx.catalog.text(ctx.locale, "validation", "too_many_files", max=files_field.max_files))
    if ref.size and ref.size > TELEGRAM_DOWNLOAD_LIMIT_MB * 1024 * 1024:
        return ctx.t("file_too_big_telegram", name=ref.name, max_mb=TELEGRAM_DOWNLOAD_LIMIT_MB)
    if ref.size and ref.size > files_field.max_file_size_mb * 1024 * 1024:
        return ctx.t("file_refused", name=ref.name, reason=ctx.catalog.text(
            ctx.locale, "validation", "file_too_big", name=ref.name, max_mb=_mb(files_field.max_file_size_mb)))
    try:
        data = ctx.fetch(ref)
    except FileTooBig:
        return ctx.t("file_too_big_telegram", name=ref.name, max_mb=TELEGRAM_DOWNLOAD_LIMIT_MB)
    # Check this one file with the engine's rules now, so the user learns at once, not at "Завершить".
    error = validate_field(ctx.catalog, files_field, [Upload(ref.name, data, ref.mime)], ctx.locale)
    if error:
        return ctx.t("file_refused", name=ref.name, reason=error)
    collecting.files.append(StoredFile(ref.file_id, ref.name, ref.mime, len(data)))
    return None


def uploads(ctx: Ctx, collecting: Collecting) -> list[Upload]:
    """Download the remembered files again for the engine (file ids outlive a bot restart)."""
    return [Upload(f.name, ctx.fetch(FileRef(f.file_id, f.name, f.mime, f.size)), f.mime) for f in collecting.files]


def _mb(value: float) -> str:
    return f"{value:g}"
