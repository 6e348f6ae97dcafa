"""Chinese name pools for demo and benchmark data: people, companies, projects, visit notes.

Every company here is invented: the pools combine generic words, so no real company is shown
courting, signing or dropping a project it never did.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from promo.core.choices import Industry, Region

# (surname, pinyin) — the common surnames, most frequent first.
SURNAMES: tuple[tuple[str, str], ...] = (
    ("王", "wang"), ("李", "li"), ("张", "zhang"), ("刘", "liu"), ("陈", "chen"),
    ("杨", "yang"), ("黄", "huang"), ("赵", "zhao"), ("吴", "wu"), ("周", "zhou"),
    ("徐", "xu"), ("孙", "sun"), ("马", "ma"), ("朱", "zhu"), ("胡", "hu"),
    ("郭", "guo"), ("何", "he"), ("林", "lin"), ("罗", "luo"), ("高", "gao"),
    ("郑", "zheng"), ("梁", "liang"), ("谢", "xie"), ("宋", "song"), ("唐", "tang"),
    ("许", "xu"), ("韩", "han"), ("冯", "feng"), ("邓", "deng"), ("曹", "cao"),
    ("彭", "peng"), ("曾", "zeng"), ("田", "tian"), ("董", "dong"), ("潘", "pan"),
    ("袁", "yuan"), ("蒋", "jiang"), ("蔡", "cai"), ("余", "yu"), ("杜", "du"),
    ("叶", "ye"), ("程", "cheng"), ("魏", "wei"), ("苏", "su"), ("吕", "lv"),
    ("丁", "ding"), ("任", "ren"), ("沈", "shen"), ("姚", "yao"), ("卢", "lu"),
    ("傅", "fu"), ("钟", "zhong"), ("姜", "jiang"), ("崔", "cui"), ("谭", "tan"),
    ("陆", "lu"), ("范", "fan"), ("汪", "wang"), ("金", "jin"), ("石", "shi"),
    ("廖", "liao"), ("贾", "jia"), ("夏", "xia"), ("方", "fang"), ("邹", "zou"),
    ("孟", "meng"), ("熊", "xiong"), ("秦", "qin"), ("邱", "qiu"), ("江", "jiang"),
    ("薛", "xue"), ("雷", "lei"), ("侯", "hou"), ("史", "shi"), ("顾", "gu"),
    ("毛", "mao"), ("邵", "shao"), ("钱", "qian"), ("严", "yan"), ("戴", "dai"),
)  # fmt: skip

# (given name, pinyin).
GIVEN_NAMES: tuple[tuple[str, str], ...] = (
    ("伟", "wei"), ("芳", "fang"), ("敏", "min"), ("静", "jing"), ("磊", "lei"),
    ("军", "jun"), ("洋", "yang"), ("勇", "yong"), ("杰", "jie"), ("涛", "tao"),
    ("明", "ming"), ("超", "chao"), ("霞", "xia"), ("刚", "gang"), ("斌", "bin"),
    ("鹏", "peng"), ("辉", "hui"), ("婷", "ting"), ("颖", "ying"), ("瑞", "rui"),
    ("建华", "jianhua"), ("志强", "zhiqiang"), ("晓东", "xiaodong"), ("海燕", "haiyan"),
    ("文博", "wenbo"), ("思远", "siyuan"), ("雨晴", "yuqing"), ("宏伟", "hongwei"),
    ("建国", "jianguo"), ("丽华", "lihua"), ("振宇", "zhenyu"), ("佳怡", "jiayi"),
    ("俊杰", "junjie"), ("晨阳", "chenyang"), ("立新", "lixin"), ("国栋", "guodong"),
    ("春梅", "chunmei"), ("玉兰", "yulan"), ("德明", "deming"), ("晓燕", "xiaoyan"),
    ("嘉诚", "jiacheng"), ("博文", "bowen"), ("浩然", "haoran"), ("欣怡", "xinyi"),
    ("雅婷", "yating"), ("天宇", "tianyu"), ("卫东", "weidong"), ("红霞", "hongxia"),
    ("永刚", "yonggang"), ("海涛", "haitao"), ("金龙", "jinlong"), ("秀兰", "xiulan"),
    ("文静", "wenjing"), ("志刚", "zhigang"), ("晓峰", "xiaofeng"), ("亚楠", "yanan"),
    ("子轩", "zixuan"), ("梦琪", "mengqi"), ("一鸣", "yiming"), ("承志", "chengzhi"),
)  # fmt: skip


def person_name(rng: random.Random) -> tuple[str, str]:
    """A Chinese full name and its pinyin (for a username)."""
    surname, s_py = rng.choice(SURNAMES)
    given, g_py = rng.choice(GIVEN_NAMES)
    return surname + given, s_py + g_py


# --- Places ---------------------------------------------------------------------------

# (city, province, 6-digit administrative division code for credit codes).
DOMESTIC_CITIES: tuple[tuple[str, str, str], ...] = (
    ("苏州", "江苏", "320500"), ("无锡", "江苏", "320200"), ("南京", "江苏", "320100"),
    ("常州", "江苏", "320400"), ("上海", "上海", "310115"), ("杭州", "浙江", "330106"),
    ("宁波", "浙江", "330212"), ("温州", "浙江", "330302"), ("绍兴", "浙江", "330602"),
    ("深圳", "广东", "440305"), ("广州", "广东", "440106"), ("东莞", "广东", "441900"),
    ("佛山", "广东", "440604"), ("北京", "北京", "110108"), ("天津", "天津", "120116"),
    ("合肥", "安徽", "340104"), ("武汉", "湖北", "420111"), ("成都", "四川", "510107"),
    ("西安", "陕西", "610113"), ("青岛", "山东", "370212"), ("济南", "山东", "370102"),
    ("厦门", "福建", "350203"), ("福州", "福建", "350102"), ("长沙", "湖南", "430104"),
    ("郑州", "河南", "410105"), ("重庆", "重庆", "500112"),
)  # fmt: skip

# Home city of the demo bureau: inspections and receptions happen here.
HOME_CITY = "奉化"

# --- Companies ------------------------------------------------------------------------

BRAND_CHARS = (
    "华恒瑞德鑫宏泰博创新盛远达科信安嘉欣凯隆源通联正天海明东方誉睿智卓越汇聚威力讯光航锦祥荣辉鼎弘启星晟昊铭"
    "润丰佳兴昌益诚和顺亿宇腾飞万合金元"
)

# Product words per industry (company names, lead names).
INDUSTRY_WORDS: dict[str, tuple[str, ...]] = {
    Industry.ELECTRONICS: ("电子", "半导体", "微电子", "光电", "集成电路", "电子元件"),
    Industry.EQUIPMENT: ("精密机械", "智能装备", "数控机床", "机器人", "液压", "传动"),
    Industry.AUTO: ("汽车零部件", "汽车电子", "车桥", "汽车部件", "轮毂"),
    Industry.NEW_ENERGY: ("新能源", "光伏", "储能", "氢能", "锂电"),
    Industry.NEW_MATERIALS: ("新材料", "高分子材料", "复合材料", "特种合金", "碳纤维"),
    Industry.BIOMEDICINE: ("生物医药", "医疗器械", "制药", "生物科技", "诊断试剂"),
    Industry.CHEMICALS: ("精细化工", "化工", "涂料", "新型助剂"),
    Industry.TEXTILES: ("纺织", "服饰", "家纺", "功能面料"),
    Industry.FOOD: ("食品", "乳业", "饮料", "调味品"),
    Industry.DIGITAL: ("数字科技", "软件", "信息技术", "云计算", "大数据"),
    Industry.LOGISTICS: ("物流", "供应链", "冷链"),
    Industry.FINANCE: ("投资", "资本", "融资租赁"),
    Industry.SERVICES: ("商务服务", "咨询", "检测认证"),
    Industry.TOURISM: ("文旅", "旅游开发", "酒店管理"),
    Industry.AGRICULTURE: ("农业科技", "生态农业", "种业"),
    Industry.OTHER: ("实业", "科技"),
}

INDUSTRY_WORDS_EN: dict[str, str] = {
    Industry.ELECTRONICS: "Electronics",
    Industry.EQUIPMENT: "Precision Machinery",
    Industry.AUTO: "Automotive Components",
    Industry.NEW_ENERGY: "Energy Systems",
    Industry.NEW_MATERIALS: "Advanced Materials",
    Industry.BIOMEDICINE: "Life Sciences",
    Industry.CHEMICALS: "Specialty Chemicals",
    Industry.TEXTILES: "Textiles",
    Industry.FOOD: "Foods",
    Industry.DIGITAL: "Digital Technologies",
    Industry.LOGISTICS: "Logistics",
    Industry.FINANCE: "Capital",
    Industry.SERVICES: "Services",
    Industry.TOURISM: "Hospitality",
    Industry.AGRICULTURE: "Agritech",
    Industry.OTHER: "Industries",
}

# What a plant of each industry makes, for lead and project names.
PRODUCTS: dict[str, tuple[str, ...]] = {
    Industry.ELECTRONICS: ("功率半导体器件", "柔性电路板", "车规级芯片封测", "MLCC电容", "光模块"),
    Industry.EQUIPMENT: ("工业机器人", "五轴数控机床", "精密减速器", "智能仓储装备", "液压元件"),
    Industry.AUTO: ("新能源汽车电驱系统", "汽车线束", "铝合金轮毂", "汽车座椅", "热管理系统"),
    Industry.NEW_ENERGY: ("动力电池", "储能电池系统", "光伏组件", "氢燃料电池电堆", "充电桩"),
    Industry.NEW_MATERIALS: ("碳纤维复合材料", "高性能工程塑料", "电子级特种气体", "高端铝箔"),
    Industry.BIOMEDICINE: ("创新药制剂", "高值医用耗材", "体外诊断试剂", "医用敷料", "原料药"),
    Industry.CHEMICALS: ("环保水性涂料", "电子化学品", "高端润滑油", "新型阻燃剂"),
    Industry.TEXTILES: ("功能性面料", "高端家纺", "运动服装", "产业用纺织品"),
    Industry.FOOD: ("休闲食品", "预制菜", "乳制品", "功能饮料"),
    Industry.DIGITAL: ("工业互联网平台", "数据中心", "软件研发中心", "智慧城市运营中心"),
    Industry.LOGISTICS: ("智慧物流园", "冷链仓储中心", "跨境电商分拨中心"),
    Industry.FINANCE: ("产业投资基金", "融资租赁公司", "股权投资管理公司"),
    Industry.SERVICES: ("区域结算中心", "检验检测中心", "人力资源服务产业园"),
    Industry.TOURISM: ("滨海度假酒店", "文旅综合体", "主题乐园"),
    Industry.AGRICULTURE: ("现代农业产业园", "种苗繁育基地", "农产品精深加工"),
    Industry.OTHER: ("总部大楼", "综合产业园"),
}

LEAD_NAME_TEMPLATES = (
    "{short}年产{n}万套{product}项目",
    "{short}{product}生产基地项目",
    "{short}{product}扩产项目",
    "{short}{product}研发及产业化项目",
    "{short}华东区域总部及{product}项目",
    "{short}{product}智能制造项目",
)
SERVICE_LEAD_NAME_TEMPLATES = (
    "{short}{product}项目",
    "{short}{product}建设项目",
    "{short}区域总部项目",
)
SERVICE_INDUSTRIES = frozenset(
    {Industry.DIGITAL, Industry.LOGISTICS, Industry.FINANCE, Industry.SERVICES, Industry.TOURISM}
)

DOMESTIC_SUFFIXES = ("有限公司", "股份有限公司", "集团有限公司", "科技有限公司", "有限公司")


@dataclass(frozen=True)
class ForeignStyle:
    region: str
    countries: tuple[str, ...]
    # (Chinese brand, romanised brand)
    brands: tuple[tuple[str, str], ...]
    cn_pattern: str  # {country} {brand} {word}
    en_pattern: str  # {brand} {word}
    cities: tuple[str, ...]


FOREIGN_STYLES: dict[str, ForeignStyle] = {
    Region.HONG_KONG: ForeignStyle(
        Region.HONG_KONG,
        ("中国香港",),
        (
            ("港丰", "Kong Fung"),
            ("嘉利", "Ka Lee"),
            ("宏基", "Wang Kei"),
            ("永昌", "Wing Cheong"),
            ("东华", "Tung Wah"),
            ("利达", "Lee Tat"),
            ("恒通", "Hang Tung"),
            ("富隆", "Fu Lung"),
            ("泰和", "Tai Wo"),
            ("德信", "Tak Shun"),
            ("汇丰源", "Wui Fung Yuen"),
            ("骏业", "Chun Yip"),
            ("信昌", "Shun Cheong"),
            ("美华", "Mei Wah"),
            ("安盛", "On Shing"),
            ("联丰", "Luen Fung"),
        ),
        "{brand}{word}(香港)有限公司",
        "{brand} {word} (Hong Kong) Limited",
        ("香港",),
    ),
    Region.JAPAN: ForeignStyle(
        Region.JAPAN,
        ("日本",),
        (
            ("东洋", "Toyo"),
            ("大和", "Yamato"),
            ("日新", "Nisshin"),
            ("北斗", "Hokuto"),
            ("富山", "Toyama"),
            ("冈田", "Okada"),
            ("松本", "Matsumoto"),
            ("小林", "Kobayashi"),
            ("清水", "Shimizu"),
            ("丰和", "Howa"),
            ("三和", "Sanwa"),
            ("中西", "Nakanishi"),
            ("高桥", "Takahashi"),
            ("光洋", "Koyo"),
            ("旭日", "Kyokujitsu"),
            ("山崎", "Yamazaki"),
        ),
        "{brand}{word}株式会社",
        "{brand} {word} Co., Ltd.",
        ("东京", "大阪", "名古屋", "横滨", "福冈"),
    ),
    Region.KOREA: ForeignStyle(
        Region.KOREA,
        ("韩国",),
        (
            ("大韩", "Daehan"),
            ("韩一", "Hanil"),
            ("东进", "Dongjin"),
            ("永进", "Youngjin"),
            ("星和", "Sunghwa"),
            ("世宇", "Sewoo"),
            ("汉拿", "Halla"),
            ("东洋韩", "Dongyanghan"),
            ("新星", "Shinsung"),
            ("泰光", "Taekwang"),
            ("晓星", "Hyosung Tech"),
            ("一进", "Iljin"),
        ),
        "韩国{brand}{word}株式会社",
        "{brand} {word} Co., Ltd.",
        ("首尔", "釜山", "仁川", "水原"),
    ),
    Region.TAIWAN: ForeignStyle(
        Region.TAIWAN,
        ("中国台湾",),
        (
            ("鸿昌", "Hung Chang"),
            ("台丰", "Tai Feng"),
            ("宝成", "Pao Cheng"),
            ("正新", "Cheng Hsin"),
            ("建大", "Chien Ta"),
            ("台达丰", "Tai Ta Feng"),
            ("振华", "Chen Hua"),
            ("华新", "Hua Hsin"),
        ),
        "台湾{brand}{word}股份有限公司",
        "{brand} {word} Corporation",
        ("台北", "新竹", "台中", "高雄"),
    ),
    Region.SINGAPORE_ASEAN: ForeignStyle(
        Region.SINGAPORE_ASEAN,
        ("新加坡", "马来西亚", "泰国"),
        (
            ("狮城", "Lion City"),
            ("南洋", "Nanyang"),
            ("星联", "Sing Lian"),
            ("丰隆华", "Hong Leong Hua"),
            ("金鹰", "Golden Eagle"),
            ("亚太", "Asia Pacific"),
        ),
        "{country}{brand}{word}私人有限公司",
        "{brand} {word} Pte. Ltd.",
        ("新加坡", "吉隆坡", "曼谷"),
    ),
    Region.EUROPE: ForeignStyle(
        Region.EUROPE,
        ("德国", "法国", "意大利", "荷兰", "瑞士", "瑞典", "英国"),
        (
            ("克斯勒", "Kessler"),
            ("霍夫曼", "Hoffmann"),
            ("施密特", "Schmidt"),
            ("贝克尔", "Becker"),
            ("瓦格纳", "Wagner"),
            ("勒布朗", "Leblanc"),
            ("范德堡", "Vandenberg"),
            ("罗西", "Rossi"),
            ("诺德", "Nordhaus"),
            ("艾森", "Eisenwerk"),
            ("卡尔森", "Carlsson"),
            ("尼尔森", "Nielsen"),
            ("福克斯", "Fuchs"),
            ("费舍尔", "Fischer"),
            ("韦伯", "Weber"),
            ("布鲁姆", "Blum"),
            ("杜兰", "Durand"),
            ("莫雷蒂", "Moretti"),
            ("斯特林", "Sterling"),
            ("哈特曼", "Hartmann"),
        ),
        "{country}{brand}{word}有限公司",
        "{brand} {word} GmbH",
        ("慕尼黑", "斯图加特", "巴黎", "米兰", "鹿特丹", "苏黎世", "斯德哥尔摩", "伦敦"),
    ),
    Region.NORTH_AMERICA: ForeignStyle(
        Region.NORTH_AMERICA,
        ("美国", "加拿大"),
        (
            ("哈德逊", "Hudson"),
            ("林肯", "Lincoln"),
            ("麦迪逊", "Madison"),
            ("帕克", "Parker"),
            ("惠特尼", "Whitney"),
            ("卡森", "Carson"),
            ("斯通", "Stonebridge"),
            ("雷诺兹", "Reynolds"),
            ("汉密尔顿", "Hamilton"),
            ("富兰克林", "Franklin"),
            ("阿克伦", "Akron"),
            ("布鲁克", "Brookfield"),
            ("格兰特", "Grant"),
            ("温斯顿", "Winston"),
        ),
        "{country}{brand}{word}公司",
        "{brand} {word} Inc.",
        ("芝加哥", "波士顿", "底特律", "圣何塞", "休斯敦", "多伦多"),
    ),
}


def domestic_company(rng: random.Random, industry: str) -> tuple[str, str, str, str]:
    """(name, short name, city, province) of an invented domestic company."""
    city, province, _code = rng.choice(DOMESTIC_CITIES)
    a, b = rng.sample(BRAND_CHARS, 2)
    word = rng.choice(INDUSTRY_WORDS[industry])
    suffix = rng.choice(DOMESTIC_SUFFIXES)
    if suffix == "科技有限公司" and word.endswith("科技"):
        suffix = "有限公司"
    return f"{city}{a}{b}{word}{suffix}", f"{a}{b}", city, province


def central_soe(rng: random.Random, industry: str) -> tuple[str, str]:
    """(name, short name) of an invented central state-owned group (央企) subsidiary."""
    a, b = rng.sample(BRAND_CHARS, 2)
    word = rng.choice(INDUSTRY_WORDS[industry])
    return f"中国{a}{b}{word}集团有限公司", f"中{a}{b}"


def foreign_company(
    rng: random.Random, region: str, industry: str
) -> tuple[str, str, str, str, str]:
    """(name, English name, short name, country, city) of an invented foreign company."""
    style = FOREIGN_STYLES[region]
    brand, brand_en = rng.choice(style.brands)
    country = rng.choice(style.countries)
    word = rng.choice(INDUSTRY_WORDS[industry])
    word_en = INDUSTRY_WORDS_EN[industry]
    name = style.cn_pattern.format(country=country, brand=brand, word=word)
    name_en = style.en_pattern.format(brand=brand_en, word=word_en)
    return name, name_en, brand, country, rng.choice(style.cities)


# --- 统一社会信用代码 (GB 32100-2015) --------------------------------------------------

CREDIT_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_CREDIT_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
# Multiplying by a number coprime with 10**8 permutes the serials, so codes look unrelated.
_SCRAMBLE = 48_271


def credit_code(division: str, serial: int) -> str:
    """A unified social credit code whose organisation-code and final check digits are valid.

    "91" (enterprise, company) + the 6-digit administrative division + a 9-character
    organisation code (8 digits from ``serial`` and its GB 11714 check digit) + the GB 32100
    check digit. Distinct serials below 10**8 give distinct codes.
    """
    body = f"{serial * _SCRAMBLE % 10**8:08d}"
    org_check = 11 - sum(int(ch) * w for ch, w in zip(body, _ORG_WEIGHTS, strict=True)) % 11
    org_digit = {10: "X", 11: "0"}.get(org_check, str(org_check))
    first17 = f"91{division}{body}{org_digit}"
    total = sum(
        CREDIT_ALPHABET.index(ch) * w for ch, w in zip(first17, _CREDIT_WEIGHTS, strict=True)
    )
    return first17 + CREDIT_ALPHABET[(31 - total % 31) % 31]


# --- Texts of the work ----------------------------------------------------------------

CONTACT_TITLES = (
    "董事长",
    "总经理",
    "副总经理",
    "投资总监",
    "战略发展部经理",
    "中国区总裁",
    "财务总监",
)

VISIT_SUMMARIES: dict[str, tuple[str, ...]] = {
    "visit": (
        "赴{city}拜访{investor}{title}，介绍我市{park}产业定位和要素保障，对方有意布局{product}产能。",
        "登门拜访{investor}，了解企业扩产计划，重点推介我市土地、电价和人才政策。",
        "走访{investor}总部，对接{product}项目选址需求，企业提出用地约{mu}亩。",
    ),
    "reception": (
        "接待{investor}{title}一行来访，分管领导会见，双方就{product}项目合作深入交流。",
        "{investor}考察团来访，参观{park}标准厂房，座谈政策兑现方式。",
    ),
    "inspection": (
        "陪同{investor}{title}实地考察{park}地块，踏勘水电气配套，企业对区位较满意。",
        "{investor}技术团队实地考察拟选地块和周边配套，索取控规和环评要求。",
    ),
    "negotiation": (
        "与{investor}就投资协议条款洽谈，重点讨论亩均税收、达产时间和违约责任。",
        "组织发改、自然资源、税务部门与{investor}集中洽谈，逐条回应企业诉求。",
        "就{product}项目供地方式和奖补政策与{investor}进行第三轮洽谈。",
    ),
    "call": (
        "与{investor}{title}视频连线，跟进项目内部决策进度。",
        "电话回访{investor}，对方董事会计划下月审议投资方案。",
    ),
    "event": (
        "在推介会上与{investor}面对面交流，介绍{park}{product}产业链配套。",
        "推介会期间与{investor}签署合作意向，约定近期来我市考察。",
    ),
}

NEXT_STEPS = (
    "安排企业高层来我市实地考察",
    "提供拟选地块规划条件和电价测算",
    "对接市发改委明确项目备案要求",
    "起草投资协议初稿并征求部门意见",
    "约请分管副市长会见企业董事长",
    "提交项目评审会审议",
    "反馈产业扶持政策兑现口径",
    "组织环评、安评前置咨询",
    "与企业确认总投资和分期建设计划",
    "跟进企业董事会决策结果",
)

DROP_REASONS = (
    "投资方战略调整，项目暂缓",
    "企业最终选址外省",
    "用地条件无法满足企业要求",
    "投资方资金链紧张，无力推进",
    "亩均税收达不到准入标准",
    "企业与竞争地区签约",
    "项目长期无实质进展",
)

PROBLEM_TITLES: dict[str, tuple[str, ...]] = {
    "land_quota": ("新增建设用地指标缺口约{n}亩", "二期用地指标尚未落实"),
    "power": ("厂区双回路供电接入滞后", "专用变电站增容审批缓慢"),
    "labour": ("一线操作工招工缺口约{n}人", "技术人才公寓尚未落实"),
    "financing": ("流动资金贷款审批缓慢", "设备融资租赁对接困难"),
    "planning_approval": ("规划方案调整审批进度慢", "建筑限高调整需规委会审议"),
    "land_approval": ("土地挂牌出让进度滞后", "土地证办理材料反复退回"),
    "eia_approval": ("环评批复尚未取得", "排污总量指标需调剂"),
    "construction_permit": ("施工许可证办理卡在图审环节", "消防设计审查意见未反馈"),
    "other": ("外籍高管子女入学问题", "厂区周边道路尚未贯通"),
}

RESOLUTIONS = (
    "协调相关部门召开专题会，已办结并反馈企业。",
    "已完成审批并出具批复文件，企业表示满意。",
    "由首问责任人牵头协调，问题已解决。",
    "纳入马上办督办事项，按期办结。",
)

PROMOTION_EVENTS = (
    # (name, city, venue, organiser unit name, duration in days)
    ("奉化·香港投资合作推介会", "香港", "香港会展中心", "香港联络处", 1),
    ("奉化(上海)长三角产业合作恳谈会", "上海", "上海国际会议中心", "上海办事处", 1),
    ("奉化·深圳电子信息产业对接会", "深圳", "深圳会展中心", "深圳办事处", 1),
    ("奉化·日韩经贸合作洽谈会", "上海", "浦东香格里拉酒店", "招商一局", 2),
    ("央企民企助力奉化发展(北京)对接会", "北京", "北京国际饭店", "北京办事处", 1),
    ("高新区新材料产业链招商推介会", "奉化", "高新区会议中心", "高新区", 1),
)

INTERMEDIARIES = (
    # (name, kind, organization)
    ("陈国华", "person", "原某外资企业中国区总经理"),
    ("林志伟", "person", "香港宁波同乡会副会长"),
    ("佐藤健一", "person", "日中经济交流协会顾问"),
    ("金东旭", "person", "韩中产业合作顾问"),
    ("仲量联合产业咨询有限公司", "agency", ""),
    ("长三角产业招商服务中心", "agency", ""),
    ("德中商务咨询(上海)有限公司", "agency", ""),
    ("深圳市电子商会", "chamber", ""),
    ("上海浙江商会", "chamber", ""),
    ("北京宁波企业商会", "chamber", ""),
    ("香港中华厂商联合会", "chamber", ""),
    ("宁波籍在外企业家联谊会", "chamber", ""),
    ("王建明", "investor", "已落户企业董事长"),
    ("许立新", "investor", "已落户企业总经理"),
)
