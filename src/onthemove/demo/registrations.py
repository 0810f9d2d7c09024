"""Synthetic assistance registrations with known truth, for deduplication tests and benchmarks.

Households of a head, often a spouse and children, named the Somali way (first name, father's name,
grandfather's name: siblings share the last two, a child's father's name is the head's first name), with
Somali, Arabic, East-African (Oromo, Amharic, Swahili, Luo) and a few other names drawn with Zipf-like
frequencies (Mohamed is very common). Each person is registered once or more (one to five times, most once), by
different agencies and staff, and every registration goes through a corruption process:

- spelling and transliteration variants (Mohamed, Mohammed, Muhammad, Maxamed; Abdi, Cabdi; Xasan, Hassan; ...),
- the whole name in Arabic script for a share of records (names of Arabic origin),
- typos (a letter substituted, dropped, doubled or two letters transposed),
- first and father's name swapped, the grandfather's name left out,
- date of birth: year only, year and month, day and month swapped, 1 January for an unknown date, a year off by
  one, a digit typo, missing, and written DD/MM/YYYY by some staff,
- phone missing, mistyped or replaced; sex missing; a move to another site in the district.

Everything is numpy on index arrays, strings only at the end (a million records in about ten seconds), and the
same seed gives the same records. ``person_id`` is the truth (a cluster), ``household_id`` the household.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

# canonical name: (Latin spelling variants, the first the most common; Arabic script or "")
MALE: list[tuple[tuple[str, ...], str]] = [
    (("Mohamed", "Mohammed", "Muhammad", "Maxamed", "Mohamad", "Mahamed"), "محمد"),
    (("Ahmed", "Axmed", "Ahmad", "Ahmet"), "أحمد"),
    (("Abdi", "Cabdi", "Abdy"), "عبدي"),
    (("Ali", "Cali", "Aly"), "علي"),
    (("Hassan", "Xasan", "Hasan", "Hassen"), "حسن"),
    (("Hussein", "Xuseen", "Husein", "Hussain"), "حسين"),
    (("Omar", "Cumar", "Umar", "Omer"), "عمر"),
    (("Abdullahi", "Cabdullaahi", "Abdulahi", "Abdillahi"), "عبدالله"),
    (("Abdirahman", "Cabdiraxmaan", "Abdulrahman", "Abdurahman"), "عبدالرحمن"),
    (("Abdikadir", "Cabdulqaadir", "Abdulkadir", "Abdiqadir"), "عبدالقادر"),
    (("Ibrahim", "Ibraahim", "Ibrahiim", "Ebrahim"), "إبراهيم"),
    (("Ismail", "Ismaaciil", "Ismael", "Esmail"), "إسماعيل"),
    (("Yusuf", "Yuusuf", "Yousef", "Yussuf"), "يوسف"),
    (("Osman", "Cismaan", "Othman", "Usman"), "عثمان"),
    (("Mahmoud", "Maxamuud", "Mohamud", "Mahmud"), "محمود"),
    (("Adan", "Aadan", "Adam", "Aden"), "آدم"),
    (("Farah", "Faarax", "Farax"), "فرح"),
    (("Nur", "Nuur", "Noor"), "نور"),
    (("Jama", "Jaamac", "Jamac"), "جامع"),
    (("Said", "Saciid", "Saeed", "Sayid"), "سعيد"),
    (("Khalid", "Khaalid", "Xaalid", "Khaled"), "خالد"),
    (("Abdiaziz", "Cabdicasiis", "Abdulaziz", "Abdiasis"), "عبدالعزيز"),
    (("Bashir", "Bashiir", "Beshir"), "بشير"),
    (("Mustafa", "Mustafe", "Mustapha"), "مصطفى"),
    (("Idris", "Idiris", "Idriss"), "إدريس"),
    (("Salah", "Saalax", "Salax"), "صلاح"),
    (("Hamza", "Xamse", "Hamsa"), "حمزة"),
    (("Abukar", "Abuukar", "Abubakar", "Abubakr"), "أبوبكر"),
    (("Musa", "Muuse", "Moussa"), "موسى"),
    (("Isa", "Ciise", "Issa"), "عيسى"),
    (("Hashim", "Xaashi", "Hashi"), "هاشم"),
    (("Sharif", "Shariif", "Sherif"), "شريف"),
    (("Warsame", "Warsama"), ""),
    (("Guled", "Guuleed", "Guleid"), ""),
    (("Dahir", "Daahir", "Dahiir"), "طاهر"),
    (("Abdiwali", "Cabdiwali", "Abdulwali"), ""),
    (("Mukhtar", "Mukhtaar", "Muqtar"), "مختار"),
    (("Shire", "Shirre"), ""),
    (("Elmi", "Cilmi", "Ilmi"), "علمي"),
    (("Awil", "Cawil", "Aweil"), ""),
    (("Hirsi", "Xirsi", "Hersi"), ""),
    (("Samatar", "Samater"), ""),
    (("Abdinasir", "Cabdinaasir", "Abdulnasir"), "عبدالناصر"),
    (("Mohamed Nur", "Maxamed Nuur", "Mohamednur"), ""),
    (("Tesfaye", "Tesfay", "Tesfayé"), ""),
    (("Getachew", "Getachaw", "Getacho"), ""),
    (("Abebe", "Abebbe"), ""),
    (("Alemu", "Alamu", "Aalemu"), ""),
    (("Gemechu", "Gamachu", "Gemechis"), ""),
    (("Tadesse", "Tadese", "Taddese"), ""),
    (("Otieno", "Otiyeno"), ""),
    (("Juma", "Jumaa", "Djuma"), "جمعة"),
    (("Baraka", "Barakah"), "بركة"),
    (("Kamau", "Kamao"), ""),
    (("Emmanuel", "Emanuel", "Immanuel"), ""),
    (("John", "Jon", "Johny"), ""),
    (("Peter", "Petr", "Pieter"), ""),
]
FEMALE: list[tuple[tuple[str, ...], str]] = [
    (("Fatima", "Faadumo", "Fadumo", "Fatuma", "Fatma"), "فاطمة"),
    (("Amina", "Aamina", "Amiina", "Ameena"), "أمينة"),
    (("Khadija", "Khadiija", "Hadija", "Xadiija"), "خديجة"),
    (("Hawa", "Xaawo", "Hawo", "Hawwa"), "حواء"),
    (("Maryam", "Maryan", "Mariam", "Mariyam"), "مريم"),
    (("Asha", "Caasha", "Aisha", "Ayesha"), "عائشة"),
    (("Halima", "Xaliimo", "Halimo", "Haleema"), "حليمة"),
    (("Zahra", "Sahra", "Sahro", "Zahara"), "زهرة"),
    (("Sadia", "Sacdiyo", "Saadia", "Sadiya"), "سعدية"),
    (("Nimo", "Nimco", "Nimca"), "نعمة"),
    (("Hodan", "Hodhan"), ""),
    (("Ayan", "Ayaan", "Ayyan"), ""),
    (("Deqa", "Deeqa", "Deka"), ""),
    (("Shukri", "Shukrii", "Shukry"), "شكري"),
    (("Ubah", "Ubax", "Ubaah"), ""),
    (("Idil", "Idiil"), ""),
    (("Hibo", "Hibaaq", "Hiba"), "هبة"),
    (("Qamar", "Kamar", "Qamaro"), "قمر"),
    (("Safiya", "Safiyo", "Safia", "Safiyya"), "صفية"),
    (("Zeynab", "Zainab", "Seynab", "Zaynab"), "زينب"),
    (("Rukia", "Ruqiya", "Rukiya", "Roqiya"), "رقية"),
    (("Layla", "Leyla", "Laila", "Leila"), "ليلى"),
    (("Nasra", "Nasro", "Nasrah"), "نصرة"),
    (("Sumaya", "Sumaiya", "Sumayyah"), "سمية"),
    (("Muna", "Muuna", "Mouna"), "منى"),
    (("Ikran", "Ikraan"), ""),
    (("Fardowsa", "Firdawsa", "Fardosa"), "فردوسة"),
    (("Anab", "Canab", "Annab"), "عنب"),
    (("Istahil", "Istaahil"), ""),
    (("Kaltun", "Kaltuun", "Kultum", "Kalsum"), "كلثوم"),
    (("Samira", "Samiira", "Sameera"), "سميرة"),
    (("Hamdi", "Xamdi", "Hamdy"), "حمدي"),
    (("Bilan", "Bilaan"), ""),
    (("Warda", "Wardo", "Wardah"), "وردة"),
    (("Hana", "Xana", "Hanna"), "هناء"),
    (("Almaz", "Almas"), ""),
    (("Tigist", "Tegist", "Tigest"), ""),
    (("Meseret", "Mesert"), ""),
    (("Chaltu", "Caaltu", "Chaaltu"), ""),
    (("Wanjiru", "Wanjiro"), ""),
    (("Achieng", "Achien", "Atieno"), ""),
    (("Zawadi", "Zawady"), ""),
    (("Grace", "Gris", "Greys"), ""),
    (("Mary", "Marie", "Mery"), ""),
]
DISTRICTS = (
    "Baidoa", "Mogadishu", "Kismayo", "Beledweyne", "Galkayo", "Garowe", "Hargeisa", "Dhusamareb",
    "Doolow", "Luuq", "Burao", "Bosaso", "Jowhar", "Afgooye", "Marka", "Dinsor", "Buurhakaba", "Qansaxdheere",
    "Xudur", "Ceel Barde",
)  # fmt: skip
SITES_PER_DISTRICT = 12
KEYS = "qwertyuiopasdfghjklzxcvbnm"
NEIGHBOURS = {
    "a": "sqz", "b": "vnh", "c": "xvd", "d": "sfe", "e": "wrd", "f": "dgr", "g": "fht", "h": "gjy", "i": "uok",
    "j": "hku", "k": "jli", "l": "ko", "m": "nj", "n": "bmh", "o": "ipl", "p": "ol", "q": "wa", "r": "etf",
    "s": "adw", "t": "ryg", "u": "yij", "v": "cbf", "w": "qes", "x": "zcs", "y": "tuh", "z": "xa",
}  # fmt: skip

# corruption probabilities per registration
P = {
    "variant": 0.15,  # each name part: another spelling
    "arabic": 0.03,  # the whole name in Arabic script (where the names have it)
    "typo": 0.06,  # each name part
    "swap": 0.03,  # first and father's name swapped
    "no_grandfather": 0.06,
    "dob_missing": 0.03,
    "dob_year_only": 0.07,
    "dob_year_month": 0.03,
    "dob_swap": 0.04,  # day and month swapped (when the day is 12 or less)
    "dob_jan1": 0.04,  # 1 January written for an unknown date
    "dob_year_off": 0.03,
    "dob_digit": 0.02,
    "dob_dmy": 0.10,  # written DD/MM/YYYY
    "phone_missing": 0.15,
    "phone_typo": 0.03,
    "phone_new": 0.05,
    "sex_missing": 0.02,
    "moved": 0.08,
}
COPIES = np.array([0.55, 0.25, 0.12, 0.05, 0.03])  # a person registered 1..5 times


def _table(names: list[tuple[tuple[str, ...], str]]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Flattened spellings, each name's offset and count of spellings, and its Arabic form."""
    spellings = np.array([s for variants, _ in names for s in variants], dtype=object)
    counts = np.array([len(v) for v, _ in names])
    offsets = np.concatenate([[0], np.cumsum(counts)[:-1]])
    arabic = np.array([a for _, a in names], dtype=object)
    return spellings, offsets, counts, arabic


def _zipf(rng: np.random.Generator, n_items: int, size: int, s: float = 0.7) -> np.ndarray:
    p = 1.0 / np.arange(1, n_items + 1) ** s
    return rng.choice(n_items, size=size, p=p / p.sum())


def _typo(rng: np.random.Generator, word: str) -> str:
    if len(word) < 3:
        return word + word[-1]
    i = int(rng.integers(1, len(word) - 1))
    kind = int(rng.integers(0, 4))
    ch = word[i].lower()
    if kind == 0:
        sub = NEIGHBOURS.get(ch, KEYS)
        return word[:i] + sub[int(rng.integers(0, len(sub)))] + word[i + 1 :]
    if kind == 1:
        return word[:i] + word[i + 1 :]
    if kind == 2:
        return word[:i] + word[i] + word[i:]
    return word[:i] + word[i + 1] + word[i] + word[i + 2 :] if i + 1 < len(word) else word[:i] + word[i] * 2


def _people(n_persons: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Households until ``n_persons`` people: their names (as indices), sex, date of birth, phone, place."""
    n_house = n_persons // 3 + 10
    size_kids = np.minimum(rng.poisson(3.0, n_house), 8)
    has_spouse = rng.random(n_house) < 0.7
    head_male = rng.random(n_house) < 0.8
    n_m, n_f = len(MALE), len(FEMALE)
    head_first_m = _zipf(rng, n_m, n_house)
    head_first_f = _zipf(rng, n_f, n_house)
    head_father = _zipf(rng, n_m, n_house)
    head_grand = _zipf(rng, n_m, n_house)
    head_year = rng.integers(1955, 2004, n_house)
    district = rng.integers(0, len(DISTRICTS), n_house)
    site = rng.integers(0, SITES_PER_DISTRICT, n_house)
    house_phone = rng.integers(10_000_000, 99_999_999, n_house)
    absent_father = _zipf(rng, n_m, n_house)

    # people of each household: head, spouse, kids (role 0, 1, 2)
    members = 1 + has_spouse + size_kids
    house = np.repeat(np.arange(n_house), members)
    start = np.repeat(np.cumsum(members) - members, members)
    pos = np.arange(len(house)) - start
    spouse_here = has_spouse[house]
    role = np.where(pos == 0, 0, np.where((pos == 1) & spouse_here, 1, 2))
    total = len(house)
    male = np.where(role == 0, head_male[house], np.where(role == 1, ~head_male[house], rng.random(total) < 0.5))
    own_first_m = _zipf(rng, n_m, total)
    own_first_f = _zipf(rng, n_f, total)
    first = np.where(male, own_first_m, own_first_f)
    first = np.where(role == 0, np.where(male, head_first_m[house], head_first_f[house]), first)
    # names index MALE for fathers and grandfathers; a child's father is the head (if a man) or absent
    father_of_kid = np.where(head_male[house], head_first_m[house], absent_father[house])
    grand_of_kid = np.where(head_male[house], head_father[house], _zipf(rng, n_m, total))
    father = np.where(role == 0, head_father[house], np.where(role == 1, _zipf(rng, n_m, total), father_of_kid))
    grand = np.where(role == 0, head_grand[house], np.where(role == 1, _zipf(rng, n_m, total), grand_of_kid))
    year = np.where(
        role == 0,
        head_year[house],
        np.where(role == 1, head_year[house] + rng.integers(-6, 10, total), rng.integers(2006, 2025, total)),
    )
    year = np.minimum(year, 2025)
    day_of_year = rng.integers(0, 365, total)
    dates = (year - 1970).astype("datetime64[Y]").astype("datetime64[D]") + day_of_year.astype("timedelta64[D]")
    month = (dates.astype("datetime64[M]") - dates.astype("datetime64[Y]")).astype(int) + 1
    day = (dates - dates.astype("datetime64[M]")).astype(int) + 1
    own_phone = rng.random(total) < np.where(role == 2, 0.05, 0.35)
    phone = np.where(own_phone, rng.integers(10_000_000, 99_999_999, total), house_phone[house])
    keep = slice(0, n_persons)
    return {
        "household": house[keep],
        "male": male[keep],
        "first": first[keep],
        "father": father[keep],
        "grand": grand[keep],
        "year": year[keep],
        "month": month[keep],
        "day": day[keep],
        "phone": phone[keep],
        "district": district[house][keep],
        "site": site[house][keep],
    }


def registrations(n: int, seed: int = 0) -> pa.Table:
    """``n`` registrations: record_id, agency, first_name, father_name, grandfather_name, sex, dob, phone,
    district, site, and the truth: person_id, household_id."""
    rng = np.random.default_rng(seed)
    mean_copies = float((COPIES * np.arange(1, 6)).sum())
    n_persons = int(n / mean_copies) + 50
    people = _people(n_persons, rng)
    copies = rng.choice(5, size=n_persons, p=COPIES) + 1
    person = np.repeat(np.arange(n_persons), copies)[:n]
    if len(person) < n:  # pragma: no cover - the margin above makes this rare
        person = np.concatenate([person, rng.integers(0, n_persons, n - len(person))])
    rng.shuffle(person)
    g = {k: v[person] for k, v in people.items()}

    m_sp, m_off, m_cnt, m_ar = _table(MALE)
    f_sp, f_off, f_cnt, f_ar = _table(FEMALE)

    def spelled(idx: np.ndarray, table: str, base_variant: np.ndarray) -> np.ndarray:
        sp, off, cnt = (m_sp, m_off, m_cnt) if table == "m" else (f_sp, f_off, f_cnt)
        other = rng.integers(0, 6, len(idx))
        variant = np.where(rng.random(len(idx)) < P["variant"], other, base_variant) % cnt[idx]
        return sp[off[idx] + variant]

    # each person has a usual spelling of each name; a registration may use another
    usual = rng.integers(0, 2, (n_persons, 3))[person] * (rng.random((n, 3)) < 0.3)
    male = g["male"]
    first = np.where(
        male,
        spelled(np.where(male, g["first"], 0), "m", usual[:, 0]),
        spelled(np.where(male, 0, g["first"]), "f", usual[:, 0]),
    )
    father = spelled(g["father"], "m", usual[:, 1])
    grand = spelled(g["grand"], "m", usual[:, 2])

    arabic = rng.random(n) < P["arabic"]
    first_ar = np.where(male, m_ar[np.where(male, g["first"], 0)], f_ar[np.where(male, 0, g["first"])])
    for col, ar in ((first, first_ar), (father, m_ar[g["father"]]), (grand, m_ar[g["grand"]])):
        use = arabic & (ar != "")
        col[use] = ar[use]

    for col in (first, father, grand):
        for i in np.flatnonzero(rng.random(n) < P["typo"]):
            col[i] = _typo(rng, col[i])
    swap = rng.random(n) < P["swap"]
    first[swap], father[swap] = father[swap].copy(), first[swap].copy()
    grand[rng.random(n) < P["no_grandfather"]] = ""

    y, mo, d = g["year"].copy(), g["month"].copy(), g["day"].copy()
    r = rng.random((n, 8))
    jan1 = r[:, 0] < P["dob_jan1"]
    mo[jan1], d[jan1] = 1, 1
    swap_dm = (r[:, 1] < P["dob_swap"]) & (d <= 12)
    mo[swap_dm], d[swap_dm] = d[swap_dm], mo[swap_dm]
    y = y + np.where(r[:, 2] < P["dob_year_off"], rng.choice([-1, 1], n), 0)
    digit = r[:, 3] < P["dob_digit"]
    d = np.where(digit & (d < 20), d + 10, np.where(digit, d - 10, d))
    year_only = r[:, 4] < P["dob_year_only"]
    year_month = (r[:, 5] < P["dob_year_month"]) & ~year_only
    missing = r[:, 6] < P["dob_missing"]
    dmy = r[:, 7] < P["dob_dmy"]
    ys, ms, ds = y.astype(str), np.char.zfill(mo.astype(str), 2), np.char.zfill(d.astype(str), 2)
    dob = np.where(dmy, np.char.add(np.char.add(np.char.add(ds, "/"), np.char.add(ms, "/")), ys),
                   np.char.add(np.char.add(np.char.add(ys, "-"), np.char.add(ms, "-")), ds))  # fmt: skip
    dob = np.where(year_month, np.char.add(np.char.add(ys, "-"), ms), dob)
    dob = np.where(year_only, ys, dob)
    dob = np.where(missing, "", dob).astype(object)

    phone = g["phone"].copy()
    new = rng.random(n) < P["phone_new"]
    phone[new] = rng.integers(10_000_000, 99_999_999, int(new.sum()))
    typo = rng.random(n) < P["phone_typo"]
    phone[typo] = phone[typo] + rng.integers(1, 9, int(typo.sum())) * 10 ** rng.integers(0, 7, int(typo.sum()))
    style = rng.integers(0, 3, n)
    prefix = np.array(["+252 6", "06", "2526"], dtype=object)[style]
    phone_txt = (prefix + phone.astype(str).astype(object)).astype(object)
    phone_txt[rng.random(n) < P["phone_missing"]] = ""

    sex = np.where(male, "M", "F").astype(object)
    sex[rng.random(n) < P["sex_missing"]] = ""
    site = g["site"].copy()
    moved = rng.random(n) < P["moved"]
    site[moved] = rng.integers(0, SITES_PER_DISTRICT, int(moved.sum()))
    district_names = np.array(DISTRICTS, dtype=object)[g["district"]]
    site_names = (district_names + " site " + (site + 1).astype(str).astype(object)).astype(object)

    agency = np.array(["A", "B", "C"], dtype=object)[rng.choice(3, n, p=[0.5, 0.3, 0.2])]
    width = len(str(n))
    return pa.table(
        {
            "record_id": pa.array([f"R{i:0{width}d}" for i in range(1, n + 1)]),
            "agency": pa.array(agency.tolist()),
            "first_name": pa.array(first.tolist()),
            "father_name": pa.array(father.tolist()),
            "grandfather_name": pa.array(grand.tolist()),
            "sex": pa.array(sex.tolist()),
            "dob": pa.array(dob.tolist()),
            "phone": pa.array(phone_txt.tolist()),
            "district": pa.array(district_names.tolist()),
            "site": pa.array(site_names.tolist()),
            "person_id": pa.array([f"P{p}" for p in person]),
            "household_id": pa.array([f"H{h}" for h in g["household"]]),
        }
    )


def write(path: str | Path, n: int, seed: int = 0) -> Path:
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    pacsv.write_csv(registrations(n, seed), p)
    return p


SPEC = {
    "id": "record_id",
    "fields": {
        "first_name": "name",
        "father_name": "name",
        "grandfather_name": "name",
        "sex": "category",
        "dob": {"type": "date", "order": "dmy"},
        "phone": "phone",
        "district": "category",
        "site": "category",
    },
    "swap": [["first_name", "father_name"]],
    "comparisons": [
        "first_name",  # sex follows the first name: comparing both would count one piece of evidence twice
        "dob",
        # siblings share these: their agreement pattern is one comparison, not four independent ones
        {"name": "family", "joint": ["father_name", "grandfather_name", "phone", "site"]},
    ],
    # sized for a million records (about 70 million candidate pairs at most; common names make loose rules explode)
    "blocking": [
        ["first_name.key", "father_name.key", "grandfather_name.key"],
        ["first_name.key", "father_name.key", "dob.year"],
        ["first_name.key = father_name.key", "father_name.key = first_name.key", "dob.year"],
        ["phone", "first_name.ph"],
        ["father_name.key", "grandfather_name.key", "dob.ym"],
        ["first_name.key", "dob", "sex"],
        ["first_name.key", "father_name.key", "district"],
    ],
    # EM sessions: pairs born the same day (estimates names and family), pairs sharing a phone (siblings look
    # like random non-matches on first name and date of birth)
    "training": [["dob"], ["phone"]],
    "training_sample": 0.3,
    "threshold": 0.9,
    "review": 0.5,
}
"""The linkage spec these registrations are deduplicated with (tests, benchmark, ``examples/linkage``)."""
