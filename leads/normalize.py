"""Name normalisation for catching duplicate investors (客商查重).

Two units often court the same company under slightly different names:
"苏州ABC电子有限公司", "苏州ＡＢＣ电子股份有限公司 ", "ABC Electronics (Suzhou) Co., Ltd.".
The normalised form drops legal-form suffixes, brackets, spaces and punctuation, folds
full-width characters to half-width (NFKC) and lower-cases Latin letters.
"""

from __future__ import annotations

import itertools
import re
import unicodedata

# Longest first, so "股份有限公司" is removed before "有限公司".
_CHINESE_SUFFIXES = (
    "集团股份有限公司",
    "集团有限责任公司",
    "集团有限公司",
    "股份有限公司",
    "有限责任公司",
    "有限公司",
    "控股集团",
    "集团公司",
    "总公司",
    "分公司",
    "集团",
    "公司",
)
_ENGLISH_SUFFIXES = (
    "corporation",
    "incorporated",
    "company",
    "limited",
    "holdings",
    "holding",
    "group",
    "corp",
    "inc",
    "ltd",
    "llc",
    "plc",
    "gmbh",
    "co",
    "ag",
    "sa",
    "kk",
)
# Leading place names: "苏州华鑫电子" and "华鑫电子" are the same company to a chief.
_PLACES = tuple(
    sorted(
        (
            "中国 北京 天津 上海 重庆 河北 山西 辽宁 吉林 黑龙江 江苏 浙江 安徽 福建 江西 山东 河南 "
            "湖北 湖南 广东 海南 四川 贵州 云南 陕西 甘肃 青海 台湾 内蒙古 广西 西藏 宁夏 新疆 香港 "
            "澳门 苏州 无锡 常州 南京 南通 昆山 杭州 宁波 温州 绍兴 嘉兴 湖州 台州 金华 奉化 深圳 "
            "广州 东莞 佛山 珠海 厦门 泉州 青岛 济南 烟台 郑州 武汉 长沙 成都 西安 合肥 大连 沈阳"
        ).split(),
        key=len,
        reverse=True,
    )
)
_BRACKETED = re.compile(r"[(\[【（][^)\]】）]*[)\]】）]")
_NOT_WORD = re.compile(r"[\W_]+", re.UNICODE)
_CREDIT_CODE = re.compile(r"^[0-9A-HJ-NP-RTUW-Y]{2}\d{6}[0-9A-HJ-NP-RTUW-Y]{10}$")


def normalize_name(name: str) -> str:
    """The comparable form of a company name; "" for a blank name."""
    text = unicodedata.normalize("NFKC", name or "").lower().strip()
    # "(中国)", "（上海）", "(Suzhou)": location markers say nothing about identity.
    text = _BRACKETED.sub(" ", text)
    words = [w for w in _NOT_WORD.split(text) if w]
    while words and words[-1] in _ENGLISH_SUFFIXES:
        words.pop()
    text = "".join(words)
    changed = True
    while changed and text:
        changed = False
        for suffix in _CHINESE_SUFFIXES:
            if text.endswith(suffix) and len(text) > len(suffix):
                text = text[: -len(suffix)]
                changed = True
                break
    return text


def core_name(normalized: str) -> str:
    """The normalised name without a leading place name (省/市 included), for close matches."""
    text = normalized
    for place in _PLACES:
        for prefix in (place + "省", place + "市", place):
            if text.startswith(prefix) and len(text) - len(prefix) >= 2:
                return text[len(prefix) :]
    return text


def normalize_credit_code(code: str) -> str:
    """Upper-case, half-width, without spaces: the form stored and compared."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", code or "")).upper()


def is_valid_credit_code(code: str) -> bool:
    """统一社会信用代码: 18 characters of the national standard's alphabet (GB 32100-2015).

    The check digit is verified too, so a mistyped code is refused rather than stored.
    """
    if not _CREDIT_CODE.match(code):
        return False
    alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    weights = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
    total = sum(alphabet.index(ch) * w for ch, w in zip(code[:17], weights, strict=True))
    check = (31 - total % 31) % 31
    return alphabet[check] == code[17]


# --- search keys (一框搜索, issue #15) ---------------------------------------------------------

_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
# Marks a run pypinyin left as it was (Latin letters, digits): kept whole in the initials.
_KEPT = "\x01"


def _words(text: str) -> list[str]:
    """NFKC, lower case, split on anything that is not a letter or digit."""
    folded = unicodedata.normalize("NFKC", text or "").lower()
    return [w for w in _NOT_WORD.split(folded) if w]


def _pinyin_keys(text: str) -> list[str]:
    """The full pinyin without spaces and the initials of ``text`` ("华为" → huawei, hw)."""
    if not _CJK.search(text):
        return []
    from pypinyin import lazy_pinyin

    syllables = lazy_pinyin(text, errors=lambda run: _KEPT + run)
    full = "".join(s.lstrip(_KEPT) for s in syllables)
    initials = "".join(s[1:] if s.startswith(_KEPT) else s[:1] for s in syllables)
    return [full, initials]


def search_text(name: str, *, name_en: str = "", credit_code: str = "") -> str:
    """The search keys of a record, written beside it (``search_text``) and indexed by trigrams.

    One lower-case line of space-separated keys, starting with a space: the name's words,
    the full pinyin and the initials of the normalised name (and of its core without a
    leading place, so "hw" finds 深圳华为), every pair of adjacent Chinese characters of the
    name, the English name's words, the credit code. A query term of three or more characters
    matches anywhere (``LIKE '%term%'``); a two-character term matches the start of a key
    (``LIKE '% term%'``), which is why each pair of Chinese characters is a key: "华为" still
    finds 深圳华为技术. Both forms take pg_trgm's GIN index (a leading space gives a
    two-character term its trigrams); a one-character term has none and is not searched.
    """
    keys: list[str] = []
    words = _words(name)
    keys += words
    normalized = normalize_name(name)
    keys += _pinyin_keys(normalized)
    core = core_name(normalized)
    if core != normalized:
        keys.append(core)
        keys += _pinyin_keys(core)
    for word in words:
        keys += [a + b for a, b in itertools.pairwise(word) if _CJK.match(a) and _CJK.match(b)]
    keys += _words(name_en)
    if credit_code:
        keys.append(normalize_credit_code(credit_code).lower())
    unique = dict.fromkeys(k for k in keys if k)
    return " " + " ".join(unique)


def search_terms(query: str) -> list[str]:
    """The terms of a search box query, folded as ``search_text`` folds the keys; terms of one
    character are dropped (they cannot use the index and would match nearly everything)."""
    return [w for w in _words(query)[:8] if len(w) >= 2]
