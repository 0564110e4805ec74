"""Remove what web scrapers leave in Indonesian news text: boilerplate lines and repeated paragraphs."""
import re
from dataclasses import dataclass

# Lines that carry no article content: related-article links, photo captions, credits...
CREDIT_LINE = re.compile(
    r"^\s*(?:(?:baca|lihat|simak)\s+(?:juga|pula|selengkapnya)|foto|ilustrasi|keterangan foto|sumber foto"
    r"|editor|penulis|reporter|pewarta|penyunting|redaktur)\s*[:|\-\u2013]", re.IGNORECASE)
# ...and, when the line is short, share buttons, app promotions and ad markers.
WIDGET_LINE = re.compile(
    r"^\s*(?:bagikan|share|tweet|ikuti kami|follow|dapatkan update|download aplikasi|unduh aplikasi"
    r"|advertisement|iklan|scroll to continue|facebook|twitter|whatsapp)\b", re.IGNORECASE)
WIDGET_MAX_WORDS = 12


def is_boilerplate(line: str) -> bool:
    return bool(CREDIT_LINE.match(line)) or (
        len(line.split()) <= WIDGET_MAX_WORDS and bool(WIDGET_LINE.match(line)))


@dataclass
class CleanStats:
    boilerplate_lines: int = 0
    repeated_paragraphs: int = 0
    chars_removed: int = 0

    def add(self, other: "CleanStats") -> None:
        self.boilerplate_lines += other.boilerplate_lines
        self.repeated_paragraphs += other.repeated_paragraphs
        self.chars_removed += other.chars_removed


def clean_text(text: str) -> tuple[str, CleanStats]:
    stats, kept, seen = CleanStats(), [], set()
    for line in text.splitlines():
        key = " ".join(line.lower().split())
        if not key:
            kept.append("")
            continue
        if is_boilerplate(line):
            stats.boilerplate_lines += 1
        elif key in seen and len(key.split()) >= 6:  # a short line ("Video:") may repeat legitimately
            stats.repeated_paragraphs += 1
        else:
            seen.add(key)
            kept.append(line.strip())
            continue
        stats.chars_removed += len(line)
    cleaned = re.sub(r"\n{3,}", "\n\n", "\n".join(kept)).strip()
    return cleaned, stats
