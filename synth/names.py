"""Places and words of the synthetic city (Jinan, Shandong: a northern city with district heating)."""

from __future__ import annotations

__all__ = [
    "CITY",
    "CITY_DISTRICTS",
    "COURT_PREFIX",
    "GOVERNMENT_WORDS",
    "INSTITUTION_WORDS",
    "OTHER_DISTRICTS",
    "SECTORS",
    "SECTOR_WORDS",
    "SOCIAL_WORDS",
    "TRADE_NAMES",
]

CITY = "济南"
# GB/T 2260 county-level codes of Jinan with a rough share of the population.
CITY_DISTRICTS: dict[str, float] = {
    "370102": 0.11,  # 历下区
    "370103": 0.10,  # 市中区
    "370104": 0.08,  # 槐荫区
    "370105": 0.09,  # 天桥区
    "370112": 0.14,  # 历城区
    "370113": 0.06,  # 长清区
    "370114": 0.11,  # 章丘区
    "370115": 0.06,  # 济阳区
    "370116": 0.10,  # 莱芜区
    "370117": 0.04,  # 钢城区
    "370124": 0.05,  # 平阴县
    "370126": 0.06,  # 商河县
}
# Districts of birth of people who came from elsewhere (other provinces and other Shandong cities).
OTHER_DISTRICTS: tuple[str, ...] = (
    "110105",  # 北京 朝阳
    "120101",  # 天津 和平
    "130102",  # 石家庄 长安
    "140105",  # 太原 小店
    "220102",  # 长春 南关
    "230102",  # 哈尔滨 道里
    "320102",  # 南京 玄武
    "340104",  # 合肥 蜀山
    "410105",  # 郑州 金水
    "411102",  # 漯河 源汇
    "440106",  # 广州 天河
    "510104",  # 成都 锦江
    "370202",  # 青岛 市南
    "370303",  # 淄博 张店
    "371302",  # 临沂 兰山
)
COURT_PREFIX = "鲁01"

SECTORS: tuple[str, ...] = (
    "manufacturing",
    "construction",
    "retail",
    "catering",
    "transport",
    "food",
    "pharma",
    "chemicals",
    "services",
    "technology",
    "agriculture",
    "public",
)

TRADE_NAMES: tuple[str, ...] = tuple(
    [
        "泉城",
        "鲁信",
        "华泰",
        "东岳",
        "齐鲁",
        "明湖",
        "千佛",
        "历山",
        "舜耕",
        "泺源",
        "趵突",
        "黄河",
        "新源",
        "鑫达",
        "恒通",
        "瑞丰",
        "宏远",
        "金桥",
        "海川",
        "嘉禾",
        "润泽",
        "盛世",
        "永安",
        "安泰",
        "银河",
        "天成",
        "中联",
        "汇丰",
        "德润",
        "祥和",
        "博远",
        "卓越",
        "和信",
        "启明",
        "广源",
        "信诚",
        "弘毅",
        "聚力",
        "鼎盛",
        "万邦",
        "长青",
        "康宁",
        "福瑞",
        "兴业",
        "华润",
        "晨光",
        "星辰",
        "凯旋",
        "天弘",
        "宏图",
    ]
)

SECTOR_WORDS: dict[str, tuple[str, str]] = {
    # sector: (enterprise word, individual-business word)
    "manufacturing": ("机械制造", "加工坊"),
    "construction": ("建筑工程", "装修队"),
    "retail": ("商贸", "便利店"),
    "catering": ("餐饮管理", "小吃店"),
    "transport": ("物流运输", "货运部"),
    "food": ("食品", "熟食店"),
    "pharma": ("医药", "药店"),
    "chemicals": ("化工", "化工经营部"),
    "services": ("商务服务", "家政服务部"),
    "technology": ("信息技术", "电脑维修部"),
    "agriculture": ("农业科技", "种植园"),
    "public": ("公共服务", "服务部"),
}
SOCIAL_WORDS: tuple[str, ...] = ("行业协会", "商会", "志愿者协会", "慈善基金会", "民办学校", "养老服务中心")
INSTITUTION_WORDS: tuple[str, ...] = (
    "人民医院",
    "第一中学",
    "图书馆",
    "疾病预防控制中心",
    "职业技术学院",
    "档案馆",
)
GOVERNMENT_WORDS: tuple[str, ...] = (
    "街道办事处",
    "城市管理局",
    "交通运输局",
    "民政局",
    "教育局",
    "文化和旅游局",
)
