"""Sample files: real magic bytes of a PNG, a PDF and a Windows executable."""
from __future__ import annotations

from engine.attachments import Upload

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89" + b"\x00" * 64
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 64


def png(name: str = "screen.png") -> Upload:
    return Upload(name, PNG)


def pdf(name: str = "invoice.pdf") -> Upload:
    return Upload(name, PDF)
