"""The synthetic universities: names, provinces (GB/T 2260 codes) and time zones, and the people's names.

Real-sounding but invented: "<city> <kind> University". Xinjiang's universities keep Asia/Urumqi time, so the
data exercises month boundaries in two zones.
"""

from __future__ import annotations

from dataclasses import dataclass

# (province code, city zh, city en, zone)
_PLACES = [
    ("110000", "京华", "Jinghua", "Asia/Shanghai"),
    ("310000", "浦江", "Pujiang", "Asia/Shanghai"),
    ("440000", "岭南", "Lingnan", "Asia/Shanghai"),
    ("320000", "金陵", "Jinling", "Asia/Shanghai"),
    ("330000", "钱塘", "Qiantang", "Asia/Shanghai"),
    ("420000", "江城", "Jiangcheng", "Asia/Shanghai"),
    ("510000", "锦城", "Jincheng", "Asia/Shanghai"),
    ("610000", "长安", "Chang'an", "Asia/Shanghai"),
    ("650000", "天山", "Tianshan", "Asia/Urumqi"),
    ("370000", "齐鲁", "Qilu", "Asia/Shanghai"),
]
# (zh, en)
_KINDS = [
    ("理工大学", "University of Technology"),
    ("师范大学", "Normal University"),
    ("财经大学", "University of Finance and Economics"),
    ("医科大学", "Medical University"),
    ("农业大学", "Agricultural University"),
]


@dataclass(frozen=True)
class University:
    index: int
    slug: str
    name_zh: str
    name_en: str
    province_code: str
    timezone: str


def university(index: int, prefix: str = "syn") -> University:
    """The ``index``-th synthetic university (places cycle first, so 10 universities span 10 provinces)."""
    code, city_zh, city_en, zone = _PLACES[index % len(_PLACES)]
    kind_zh, kind_en = _KINDS[(index // len(_PLACES)) % len(_KINDS)]
    round_ = index // (len(_PLACES) * len(_KINDS))
    suffix_zh, suffix_en = (f"（{round_ + 1}）", f" ({round_ + 1})") if round_ else ("", "")
    return University(
        index=index,
        slug=f"{prefix}-{index:03d}",
        name_zh=f"{city_zh}{kind_zh}{suffix_zh}",
        name_en=f"{city_en} {kind_en}{suffix_en}",
        province_code=code,
        timezone=zone,
    )


SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红鹏辉晨宇浩然欣怡子涵思雨梓轩"
