"""A relevance evaluation set for Vietnamese administrative search, generated deterministically.

Documents: ``TOPICS`` x ``DOCS_PER_TOPIC`` official documents from 15 agencies and 7 types, each
with a subject, a body of several sentences (its topic's own words, and administrative boilerplate
full of the words that collide once folded: số/sở, tại/tài, đạt/đất, đại/đai, phổ/phó/phòng), and
metadata. Queries: per category, written from the topic and agency texts, never from what a search
returns; the expected documents of a query are decided from the generator's own facts (its topic,
its agency), so the set judges the engine instead of echoing it.

``evaluate`` runs every query on an index and gives recall@10 and MRR per category.
"""

from __future__ import annotations

import random
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date

from search import IndexDocument, Principal, SearchIndex, SearchQuery

DOCS_PER_TOPIC = 10
READ_ALL = Principal(user_id="evaluator", clearance=3, tokens=frozenset({"all"}))

AGENCIES = [
    "Ủy ban nhân dân tỉnh", "Sở Tài chính", "Sở Tài nguyên và Môi trường", "Sở Nội vụ", "Sở Kế hoạch và Đầu tư",
    "Sở Y tế", "Sở Giáo dục và Đào tạo", "Sở Nông nghiệp và Phát triển nông thôn", "Sở Thông tin và Truyền thông",
    "Sở Xây dựng", "Sở Công Thương", "Sở Lao động - Thương binh và Xã hội", "Công an tỉnh", "Sở Tư pháp",
    "Sở Giao thông vận tải",
]
TYPES = [("QĐ", "Quyết định"), ("CV", "Công văn"), ("KH", "Kế hoạch"), ("TB", "Thông báo"), ("BC", "Báo cáo"),
         ("TTr", "Tờ trình"), ("CT", "Chỉ thị")]

#: (topic phrase, agency index of most of its documents, a sentence of its own)
TOPICS = [
    ("phòng chống dịch tả lợn châu Phi", 7, "Tiêu hủy lợn bệnh, khử trùng chuồng trại, kiểm soát vận chuyển gia súc."),
    ("bồi dưỡng cán bộ công chức", 3, "Mở lớp tập huấn nghiệp vụ cho cán bộ cấp xã, cấp huyện."),
    ("chuyển đổi số trong cơ quan nhà nước", 8, "Triển khai chữ ký số, nền tảng dữ liệu và dịch vụ công trực tuyến."),
    ("quản lý đất đai", 2, "Cấp giấy chứng nhận quyền sử dụng đất, đo đạc bản đồ địa chính."),
    ("đăng ký kinh doanh", 4, "Cấp giấy chứng nhận đăng ký doanh nghiệp và hộ kinh doanh cá thể."),
    ("phòng chống thiên tai", 7, "Ứng phó bão lũ, sạt lở đất, di dời dân khỏi vùng nguy hiểm."),
    ("rèn luyện kỹ năng mềm cho học sinh", 6, "Tổ chức hoạt động trải nghiệm, kỹ năng giao tiếp và làm việc nhóm."),
    ("giải phóng mặt bằng dự án đường cao tốc", 9, "Kiểm đếm, bồi thường, hỗ trợ tái định cư cho hộ dân bị ảnh hưởng."),
    ("phổ biến giáo dục pháp luật", 13, "Tuyên truyền văn bản quy phạm pháp luật mới đến người dân."),
    ("phòng cháy chữa cháy", 12, "Kiểm tra trang thiết bị, diễn tập cứu nạn cứu hộ tại khu dân cư."),
    ("cấp phiếu lý lịch tư pháp", 13, "Tiếp nhận hồ sơ đề nghị cấp phiếu lý lịch tư pháp trực tuyến."),
    ("quyết toán ngân sách địa phương", 1, "Tổng hợp số liệu thu chi, thẩm định báo cáo quyết toán."),
    ("tuyển dụng viên chức", 3, "Xét tuyển hồ sơ, phỏng vấn và công nhận kết quả trúng tuyển."),
    ("bảo đảm an toàn thực phẩm", 5, "Kiểm tra cơ sở sản xuất, kinh doanh thực phẩm và bếp ăn tập thể."),
    ("xây dựng nông thôn mới", 7, "Đánh giá tiêu chí xã đạt chuẩn nông thôn mới nâng cao."),
    ("cải cách hành chính", 3, "Rà soát thủ tục hành chính, đo lường sự hài lòng của người dân."),
    ("tiêm chủng mở rộng", 5, "Tổ chức tiêm vắc xin cho trẻ em dưới một tuổi tại trạm y tế."),
    ("bảo đảm trật tự an toàn giao thông", 14, "Tuần tra, xử lý vi phạm nồng độ cồn và tốc độ."),
    ("bảo vệ môi trường làng nghề", 2, "Thu gom, xử lý nước thải và chất thải rắn tại làng nghề."),
    ("thi đua khen thưởng", 0, "Xét tặng bằng khen cho tập thể, cá nhân có thành tích xuất sắc."),
    ("giảm nghèo bền vững", 11, "Hỗ trợ sinh kế, nhà ở cho hộ nghèo và hộ cận nghèo."),
    ("phát triển du lịch cộng đồng", 10, "Quảng bá điểm đến, đào tạo hướng dẫn viên tại bản làng."),
    ("thanh tra công vụ", 3, "Kiểm tra việc chấp hành kỷ luật, kỷ cương hành chính của công chức."),
    ("đào tạo kỹ thuật viên tin học", 8, "Bồi dưỡng kỹ thuật quản trị mạng và an toàn thông tin."),
    ("cung cấp nước sạch nông thôn", 7, "Đầu tư công trình cấp nước tập trung cho các xã vùng cao."),
]
#: boilerplate sentences: what every administrative text says, full of folding collisions
BOILERPLATE = [
    "Căn cứ Luật Tổ chức chính quyền địa phương; xét đề nghị của thủ trưởng đơn vị.",
    "Số liệu tại thời điểm báo cáo đạt yêu cầu đề ra.",
    "Đại biểu các sở, ngành tham dự hội nghị tại hội trường.",
    "Kinh phí thực hiện từ nguồn tài trợ và nguồn chính quyền cấp.",
    "Các đơn vị phối hợp thực hiện, báo cáo kết quả trước ngày 30 hằng tháng.",
    "Giao phó trách nhiệm cho phòng chuyên môn theo dõi, đôn đốc.",
    "Phổ thông tin đến các phòng, ban để biết và thực hiện.",
    "Đại diện các đơn vị đạt thành tích được biểu dương.",
    "Tài liệu gửi kèm theo số hiệu văn bản tại phụ lục.",
    "Chính sách được áp dụng thống nhất trên địa bàn.",
]


@dataclass(frozen=True)
class EvalDoc:
    id: str
    topic: int
    agency: int
    type_code: str
    document: IndexDocument


@dataclass(frozen=True)
class EvalQuery:
    category: str
    q: str
    relevant: frozenset[str]
    type_codes: tuple[str, ...] = ()


def fold(text: str) -> str:
    """The accent-free way a user types (đ -> d)."""
    text = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    return "".join(c for c in text if not unicodedata.combining(c))


def build_documents(docs_per_topic: int = DOCS_PER_TOPIC, topics: int | None = None) -> list[EvalDoc]:
    rng = random.Random(18)
    out: list[EvalDoc] = []
    for t, (topic, main_agency, own) in enumerate(TOPICS[:topics]):
        for i in range(docs_per_topic):
            agency = main_agency if i % 2 == 0 else rng.randrange(len(AGENCIES))
            code, type_name = TYPES[(t + i) % len(TYPES)]
            number = rng.randrange(1, 900)
            issued = date(2020 + (t + i) % 6, 1 + i % 12, 1 + (t * 7 + i) % 27)
            doc_id = f"t{t:02d}d{i:02d}"
            subject = f"{type_name} về việc {topic} năm {issued.year}"
            body = " ".join([f"{AGENCIES[agency]} ban hành {type_name.lower()} về {topic}.", own,
                             *rng.sample(BOILERPLATE, 4), f"Nội dung {topic} được triển khai đồng bộ."])
            document = IndexDocument(
                id=doc_id, direction="outgoing", number=number, notation=f"{number}/{code}-{_abbr(agency)}",
                type_code=code, type_name=type_name, issuing_body=AGENCIES[agency], subject=subject,
                full_text=body, issued_date=issued, readers=["all"])
            out.append(EvalDoc(doc_id, t, agency, code, document))
    return out


def _abbr(agency: int) -> str:
    return "UBND" if agency == 0 else "".join(w[0] for w in fold(AGENCIES[agency]).split() if w[0].isupper())


def _telex(text: str) -> str:
    """The text as typed in Telex without the converter: đ -> dd, circumflexes doubled, no tones."""
    out = []
    for ch in unicodedata.normalize("NFC", text.lower()):
        base = fold(ch)
        decomposed = unicodedata.normalize("NFD", ch)
        if ch == "đ":
            out.append("dd")
        elif "\u0302" in decomposed:  # circumflex: â ê ô
            out.append(base * 2)
        elif "\u0306" in decomposed or "\u031b" in decomposed:  # breve ă, horn ơ ư
            out.append(base + "w")
        else:
            out.append(base)
    return "".join(out)


def _one_letter_off(topic: str, rng: random.Random) -> str:
    """The topic with one letter of its longest word dropped or two letters swapped."""
    words = topic.split()
    i = max(range(len(words)), key=lambda k: len(fold(words[k])))
    w = words[i]
    j = rng.randrange(1, len(w) - 1)
    words[i] = w[:j] + w[j + 1:] if rng.random() < 0.5 else w[:j - 1] + w[j] + w[j - 1] + w[j + 1:]
    return " ".join(words)


def _joined(topic: str) -> str:
    """The topic with its words typed in pairs without the space (``bồidưỡng cánbộ``)."""
    words = topic.split()
    return " ".join("".join(words[k:k + 2]) for k in range(0, len(words), 2))


_IY = [("kỹ", "kĩ"), ("lý", "lí"), ("Kỹ", "Kĩ")]


def _swap_iy(topic: str) -> str | None:
    for written, other in _IY:
        if written in topic:
            return topic.replace(written, other)
    return None


def build_queries(docs: list[EvalDoc]) -> list[EvalQuery]:
    rng = random.Random(1818)
    by_topic: dict[int, set[str]] = {}
    by_agency: dict[int, set[str]] = {}
    by_topic_agency: dict[tuple[int, int], set[str]] = {}
    for d in docs:
        by_topic.setdefault(d.topic, set()).add(d.id)
        by_agency.setdefault(d.agency, set()).add(d.id)
        by_topic_agency.setdefault((d.topic, d.agency), set()).add(d.id)
    queries: list[EvalQuery] = []

    def add(category: str, q: str, relevant: Iterable[str], type_codes: tuple[str, ...] = ()) -> None:
        rel = frozenset(relevant)
        if rel:
            queries.append(EvalQuery(category, q, rel, type_codes))

    topics = sorted(by_topic)
    for t in topics:
        topic, main, _ = TOPICS[t]
        add("plain", topic, by_topic[t])
        add("stop_words", f"văn bản của {AGENCIES[main]} về việc {topic}", by_topic_agency[(t, main)])
        if t % 2 == 0:
            add("stop_words", f"V/v {topic}", by_topic[t])
        add("one_letter_off", _one_letter_off(topic, rng), by_topic[t])
        add("joined_syllables", _joined(topic), by_topic[t])
        add("telex", _telex(topic), by_topic[t])
        words = topic.split()[:3]
        typed = " ".join(words[:-1]) + f" {words[-1][:max(2, len(words[-1]) - 2)]}*"
        if sum(fold(other[0]).lower().startswith(fold(typed[:-1]).lower()) for other in TOPICS) == 1:
            add("prefix", typed, by_topic[t])
        swapped = _swap_iy(topic)
        if swapped:
            add("i_y", swapped, by_topic[t])
        add("accent_free", fold(topic).lower(), by_topic[t])
        add("filters", fold(topic).lower(), {d.id for d in docs if d.topic == t and d.type_code == "QĐ"}, ("QD",))
    for a in sorted(by_agency):
        add("accent_free", fold(AGENCIES[a]).lower(), by_agency[a])
    for written, other in (("kỹ năng", "kĩ năng"), ("lý lịch", "lí lịch"), ("kỹ thuật", "kĩ thuật"),
                           ("quản lý đất đai", "quản lí đất đai"), ("kỷ luật", "kỉ luật"),
                           ("kỹ năng giao tiếp", "kĩ năng giao tiếp"),
                           ("lý lịch tư pháp trực tuyến", "lí lịch tư pháp trực tuyến"), ("kỷ cương", "kỉ cương"),
                           ("kỹ thuật quản trị mạng", "kĩ thuật quản trị mạng")):
        add("i_y", other, {d.id for d in docs if written in d.document.subject + " " + d.document.full_text})
    return queries


@dataclass(frozen=True)
class Scores:
    recall_at_10: float
    mrr: float
    queries: int


def score_query(ranked: list[str], relevant: frozenset[str]) -> tuple[float, float]:
    """recall@10 (relevant found in the first 10, out of at most 10) and reciprocal rank."""
    top = ranked[:10]
    recall = len(relevant.intersection(top)) / min(len(relevant), 10)
    rr = next((1.0 / (i + 1) for i, doc_id in enumerate(ranked) if doc_id in relevant), 0.0)
    return recall, rr


def evaluate(index: SearchIndex, queries: list[EvalQuery],
             fold_type: Callable[[str], str] | None = None) -> dict[str, Scores]:
    """Per category: mean recall@10 and MRR of ``queries`` on ``index``. ``fold_type`` maps a typed
    type code to an indexed one (what the service does with ``type=QD``)."""
    sums: dict[str, list[float]] = {}
    for query in queries:
        codes = tuple(fold_type(c) if fold_type else c for c in query.type_codes)
        result = index.search(SearchQuery(q=query.q, type_codes=codes, size=20), READ_ALL)
        recall, rr = score_query([h.id for h in result.hits], query.relevant)
        acc = sums.setdefault(query.category, [0.0, 0.0, 0.0])
        acc[0] += recall
        acc[1] += rr
        acc[2] += 1
    return {c: Scores(r / n, m / n, int(n)) for c, (r, m, n) in sums.items()}
