"""A deterministic synthetic cohort of TOH / RMO patients, for demonstrations and load tests.

No Qt, no SQL, no I/O: `generate()` yields `model.Patient` records that pass `model.check_patient`.

Determinism: every patient is drawn from one `random.Random` of the cohort, re-seeded for each MRN
number from the text ``"tohtrack-demo/<seed>/<number>"`` (a string seed is hashed with SHA-512 by the
random module, so it does not depend on Python's hash randomisation). Patient D<seed>-000042 is
therefore the same person whatever `count` or `taken` are, and a second run into a database that
already holds the first run's MRNs adds *new* people rather than copies under new numbers.
Dates are offsets from `today`, so the same cohort generated on another day is the same set of
stories shifted in time: there is always a mix of active, recently resolved and old episodes.

The figures follow published series (see the README): men 40-55 predominate (about 3:1), women often in the third
trimester; mostly one hip episode resolving in 4-10 months; about a fifth with a later episode in
the same joint (recurrence) or another (migration, 3 months to 4 years later); a few revised
diagnoses, AVN signs and risk factors, missed reviews and drop-outs.

Speed: dates are handled as proleptic ordinals (ints) internally and converted once per record;
100 000 patients stream out in about 5 s. Consume the iterator as a stream (in batches): a list of
100 000 patients holds some 2.3 million objects, and CPython 3.11's full garbage collections over
them about double the time.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Container, Iterator

from .model import TOH, Episode, ImagingStudy, Patient, SymptomRecord, Treatment

__all__ = ["generate", "demo_mrn"]

# ---------------------------------------------------------------------------
# Names: (family names, male given names, female given names) per origin.
# A family name given as a pair is (masculine form, feminine form).
# ---------------------------------------------------------------------------

_ORIGINS: tuple[tuple[tuple, tuple, tuple], ...] = (
    (  # Italian
        ("Rossi", "Bianchi", "Romano", "Colombo", "Ricci", "Marino", "Greco", "Esposito", "Bruno",
         "Gallo", "Conti", "De Luca", "Mancini", "Costa", "Fabbri", "Lombardi"),
        ("Marco", "Luca", "Giuseppe", "Alessandro", "Andrea", "Matteo", "Francesco", "Stefano",
         "Nicolò", "Paolo"),
        ("Giulia", "Francesca", "Chiara", "Sara", "Valentina", "Elena", "Federica", "Martina"),
    ),
    (  # Spanish and Portuguese
        ("García", "Fernández", "López", "Martínez", "Sánchez", "Pérez", "Gómez", "Ruiz",
         "Silva", "Santos", "Gonçalves", "Conceição", "Ferreira", "Oliveira", "Núñez", "Morales"),
        ("José", "Antonio", "Javier", "Sergio", "João", "Miguel", "Rubén", "Pedro", "Álvaro",
         "Tiago"),
        ("María", "Lucía", "Carmen", "Inês", "Ana", "Marta", "Raquel", "Sofía", "Beatriz"),
    ),
    (  # French
        ("Martin", "Bernard", "Dubois", "Lefèvre", "Girard", "Rousseau", "Moreau", "Laurent",
         "Fournier", "Mercier", "Bonnet", "Chevalier"),
        ("Jérôme", "François", "Frédéric", "Benoît", "Nicolas", "Julien", "Olivier", "Thierry",
         "Sébastien"),
        ("Émilie", "Hélène", "Élodie", "Léa", "Camille", "Aurélie", "Claire", "Céline", "Zoé"),
    ),
    (  # German, Austrian, Swiss
        ("Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Schäfer", "Köhler", "Wagner",
         "Becker", "Hoffmann", "Krüger", "Zimmermann", "Hofer", "Brunner"),
        ("Jürgen", "Jörg", "Stefan", "Matthias", "Uwe", "Thomas", "Michael", "Andreas", "Tobias",
         "Florian"),
        ("Anja", "Sabine", "Katrin", "Julia", "Sandra", "Jana", "Birgit", "Lena", "Jutta"),
    ),
    (  # Dutch and Belgian
        ("de Vries", "van den Berg", "Jansen", "Bakker", "Visser", "Smit", "Peeters", "Maes",
         "van Dijk", "Mulder"),
        ("Jeroen", "Pieter", "Sander", "Bram", "Joost", "Wouter", "Koen", "Maarten"),
        ("Anouk", "Sanne", "Lotte", "Femke", "Eva", "Inge", "Marieke"),
    ),
    (  # Scandinavian
        ("Hansen", "Johansen", "Nilsen", "Sørensen", "Lindqvist", "Åberg", "Ødegaard", "Larsen",
         "Eriksson", "Lindström", "Bergström", "Kristiansen"),
        ("Søren", "Bjørn", "Lars", "Anders", "Jørgen", "Magnus", "Henrik", "Ole", "Nils", "Mikael"),
        ("Ingrid", "Sigrid", "Åse", "Kirsten", "Solveig", "Astrid", "Maja", "Linnéa"),
    ),
    (  # Polish
        (("Kowalski", "Kowalska"), "Nowak", ("Wiśniewski", "Wiśniewska"), "Wójcik",
         ("Lewandowski", "Lewandowska"), ("Zieliński", "Zielińska"), "Woźniak", "Mazur",
         ("Kamiński", "Kamińska")),
        ("Łukasz", "Piotr", "Tomasz", "Paweł", "Krzysztof", "Marcin", "Grzegorz", "Michał"),
        ("Agnieszka", "Małgorzata", "Katarzyna", "Anna", "Joanna", "Magdalena", "Ewa"),
    ),
    (  # Greek
        (("Papadopoulos", "Papadopoulou"), ("Georgiou", "Georgiou"), ("Nikolaidis", "Nikolaidou"),
         ("Papadakis", "Papadaki"), ("Oikonomou", "Oikonomou"), ("Vlachos", "Vlachou"),
         ("Karagiannis", "Karagianni"), ("Dimitriou", "Dimitriou")),
        ("Giorgos", "Dimitris", "Nikos", "Kostas", "Yannis", "Panagiotis", "Christos", "Vasilis"),
        ("Eleni", "Maria", "Katerina", "Sofia", "Despina", "Georgia", "Ioanna"),
    ),
    (  # Turkish
        ("Yılmaz", "Kaya", "Demir", "Şahin", "Çelik", "Öztürk", "Aydın", "Arslan", "Doğan",
         "Koç", "Kurt", "Özdemir"),
        ("Mehmet", "Mustafa", "Ahmet", "Emre", "Burak", "Murat", "Hüseyin", "Serkan", "Cem"),
        ("Ayşe", "Fatma", "Elif", "Zeynep", "Emine", "Gül", "Derya", "Özlem"),
    ),
    (  # Levantine and North African Arabic
        ("Haddad", "Khoury", "Nasser", "Mansour", "Saleh", "Hamdan", "Benali", "El Amrani",
         "Bouzid", "Aziz", "Hassan", "Rahal"),
        ("Karim", "Omar", "Youssef", "Tarek", "Samir", "Rachid", "Nabil", "Walid", "Hicham"),
        ("Rania", "Leila", "Nour", "Yasmin", "Salma", "Amira", "Fatima", "Hind"),
    ),
    (  # Israeli
        ("Cohen", "Levi", "Mizrahi", "Peretz", "Friedman", "Biton", "Shapiro", "Avraham"),
        ("Yossi", "Avi", "Eitan", "Noam", "Itai", "Omer", "Daniel"),
        ("Noa", "Tamar", "Shira", "Yael", "Michal", "Maya"),
    ),
    (  # Persian
        ("Hosseini", "Ahmadi", "Rezaei", "Karimi", "Moradi", "Jafari", "Rahimi", "Sadeghi"),
        ("Reza", "Ali", "Amir", "Hossein", "Mehdi", "Dariush", "Kaveh"),
        ("Maryam", "Shirin", "Nasrin", "Parisa", "Leila", "Azadeh"),
    ),
    (  # British and Irish
        ("Smith", "Jones", "Taylor", "Brown", "Wilson", "Evans", "Walsh", "O'Brien", "Murphy",
         "Thompson", "Byrne", "Roberts"),
        ("James", "David", "Paul", "Mark", "Richard", "Sean", "Gareth", "Ciarán", "Neil"),
        ("Sarah", "Emma", "Claire", "Rachel", "Siobhán", "Laura", "Rebecca"),
    ),
)

_PATIENT_NOTES = (
    "Works as a builder; heavy manual job.",
    "Long-distance driver.",
    "Prefers morning appointments.",
    "Interpreter needed for consultations.",
    "Keen runner; wants to return to running.",
    "Referred by the GP with suspected hip osteoarthritis.",
    "Referred from the emergency department.",
    "Lives alone; second floor without a lift.",
)

# ---------------------------------------------------------------------------
# Clinical code lists and texts used by the generator
# ---------------------------------------------------------------------------

_INSTRUMENT = {"hip": "Harris Hip Score", "knee": "KOOS", "ankle": "FAAM ADL", "foot": "FAAM ADL"}

# Diagnosis of a first episode (the rest is transient osteoporosis), cumulative thresholds.
_REVISED = (
    (0.030, "avascular_necrosis"),
    (0.045, "stress_fracture"),
    (0.053, "subchondral_insufficiency_fracture"),
    (0.059, "septic_arthritis"),
    (0.061, "tuberculous_arthropathy"),
    (0.066, "crps"),
    (0.070, "other"),
)
_REVISION_NOTES = {
    "avascular_necrosis": "Diagnosis revised from transient osteoporosis to avascular necrosis: "
                          "subchondral low-signal band on the follow-up MRI.",
    "stress_fracture": "Diagnosis revised to stress fracture: fracture line on follow-up imaging; "
                       "recent increase in training load.",
    "subchondral_insufficiency_fracture": "Diagnosis revised to subchondral insufficiency fracture.",
    "septic_arthritis": "Diagnosis revised to septic arthritis: joint space narrowing, raised CRP, "
                        "positive aspirate.",
    "tuberculous_arthropathy": "Diagnosis revised to tuberculous arthropathy: joint space narrowing; "
                               "synovial biopsy positive for M. tuberculosis.",
    "crps": "Diagnosis revised to complex regional pain syndrome: vasomotor and skin changes.",
    "other": "Diagnosis revised after specialist review.",
}

_COMMON_RISKS = ("smoking", "smoking", "smoking", "alcohol", "alcohol", "corticosteroids", "trauma", "other")
_AVN_RISKS = ("corticosteroids", "corticosteroids", "alcohol", "alcohol", "smoking", "sickle_cell", "sle",
              "hiv", "chemotherapy", "radiation", "gaucher", "decompression_illness", "trauma")

_ANALGESIA = (
    "paracetamol 1 g qds",
    "paracetamol 1 g qds",
    "paracetamol 1 g qds + ibuprofen 400 mg tds",
    "naproxen 500 mg bd with omeprazole 20 mg od",
    "paracetamol 1 g qds, codeine 30 mg qds prn",
    "metamizole 1 g tds",
    "diclofenac 75 mg bd",
    "etoricoxib 90 mg od",
)
_PWB = (
    "two crutches, toe-touch weight bearing",
    "two crutches, partial weight bearing as pain allows",
    "crutches; wean over 6 weeks",
    "",
)
_BISPHOSPHONATE = (  # (detail, days from start to end)
    ("zoledronate 5 mg IV once", 0),
    ("zoledronate 5 mg IV once", 0),
    ("zoledronate 5 mg IV once", 0),
    ("neridronate 100 mg IV, 4 infusions over 10 days", 9),
    ("alendronate 70 mg weekly", 91),
    ("ibandronate 6 mg IV monthly x3", 61),
)
_OTHER_TREATMENT = {
    "septic_arthritis": ("other", "arthroscopic washout; flucloxacillin 2 g IV qds then oral, 6 weeks", 42),
    "tuberculous_arthropathy": ("other", "rifampicin, isoniazid, pyrazinamide, ethambutol 2 months; "
                                         "rifampicin, isoniazid 7 months", 274),
    "crps": ("other", "physiotherapy and desensitisation programme", 91),
}

_SYMPTOM_NOTES_FIRST = (
    "Spontaneous groin pain over several weeks, no trauma.",
    "Progressive pain on weight bearing, antalgic gait.",
    "",
    "",
)
_SLOW_DISCHARGE = {
    "avascular_necrosis": "Discharged to the arthroplasty clinic.",
    "tuberculous_arthropathy": "Anti-tuberculous treatment completed. Discharged.",
}
_DNA_NOTE = "Did not attend the previous review."
_DISCHARGE_NOTE = "Pain free, full range of movement. Discharged."
_LATE_REVIEW_NOTE = "Review after discharge: no new symptoms."

_TIMES = tuple(f"{h:02d}:{m:02d}" for h in range(7, 20) for m in range(0, 60, 5))

_HIP_REGIONS = (["head"], ["head", "neck"], ["head", "neck", "intertrochanteric"])
#: The regions of other joints, most often involved first (bone marrow edema of the knee favours the medial femoral
#: condyle, of the ankle the talus, of the foot the navicular); an episode's edema spreads down the list.
_JOINT_REGIONS = {
    "knee": ("medial_femoral_condyle", "medial_tibial_plateau", "lateral_femoral_condyle"),
    "ankle": ("talus", "distal_tibia", "distal_fibula"),
    "foot": ("navicular", "cuneiforms", "cuboid"),
    "shoulder": ("humeral_head", "glenoid"),
    "wrist": ("scaphoid", "lunate", "distal_radius"),
}

# Approximate day counts (calendar months average 30.44 days); the course rules use calendar months,
# and the review contacts are scattered within their ±14-day windows anyway.
_W6, _M3, _M6, _M8 = 42, 91, 183, 243


def demo_mrn(seed: int, number: int) -> str:
    """The MRN of demo patient `number` (1, 2, ...) of cohort `seed`: D<seed>-<6 digits>."""
    return f"D{seed}-{number:06d}"


def generate(
    count: int,
    seed: int = 0,
    today: dt.date | None = None,
    taken: Container[str] = frozenset(),
) -> Iterator[Patient]:
    """Yield `count` synthetic patients of cohort `seed`, with nothing dated after `today`.

    MRNs are ``D<seed>-000001`` upward, skipping any in `taken`. The same arguments always give
    the same patients; each patient depends only on (seed, its MRN number, today).
    """
    if isinstance(count, bool) or not isinstance(count, int):
        raise TypeError(f"count must be an integer, not {type(count).__name__}")
    if count < 0:
        raise ValueError(f"count must not be negative (got {count})")
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise TypeError(f"seed must be an integer, not {type(seed).__name__}")
    if today is None:
        today = dt.date.today()
    elif isinstance(today, dt.datetime):
        today = today.date()
    elif not isinstance(today, dt.date):
        raise TypeError(f"today must be a date, not {type(today).__name__}")
    return _generate(count, seed, today.toordinal(), taken)


def _generate(count: int, seed: int, today: int, taken: Container[str]) -> Iterator[Patient]:
    rng = random.Random()
    builder = _Builder(rng, today)
    number = 0
    made = 0
    while made < count:
        number += 1
        mrn = f"D{seed}-{number:06d}"
        if mrn in taken:
            continue
        rng.seed(f"tohtrack-demo/{seed}/{number}")
        yield builder.patient(mrn)
        made += 1


# ---------------------------------------------------------------------------
# The generator proper
# ---------------------------------------------------------------------------


def _other_side(side: str) -> str:
    return "right" if side == "left" else "left"


class _Builder:
    """Builds one patient at a time from the (re-seeded) random stream."""

    # The first onset drawn towards today: FIRST_SPAN * u ** RECENCY days before it (about 8 years at most).
    FIRST_SPAN = 8 * 365
    RECENCY = 1.5

    def __init__(self, rng: random.Random, today: int):
        self.rng = rng
        self.r = rng.random
        self.today = today

    # -- small helpers ----------------------------------------------------

    def pick(self, seq):
        return seq[int(self.r() * len(seq))]

    def between(self, low: int, high: int) -> int:
        """An int in [low, high]."""
        return low + int(self.r() * (high - low + 1))

    # -- the patient -------------------------------------------------------

    def patient(self, mrn: str) -> Patient:
        r = self.r
        today = self.today
        fromordinal = dt.date.fromordinal

        # Sex, age at first onset, pregnancy at the first onset.
        u = r()
        if u < 0.75:
            sex = "male"
        elif u < 0.997:
            sex = "female"
        else:
            sex = "unknown"
        pregnancy = None
        if sex == "male" or sex == "unknown":
            if r() < 0.9:
                age = self.rng.gauss(47.5, 4.5)
                age = min(max(age, 36.0), 62.0)
            else:
                age = 25.0 + 50.0 * r()
        else:
            v = r()
            if v < 0.45:
                pregnancy = "trimester_3" if v < 0.36 else ("postpartum" if v < 0.42 else "trimester_2")
                age = 24.0 + 16.0 * r()
            else:
                age = 38.0 + 27.0 * r()

        # The plan: episodes as [relative onset, site, diagnosis, course days], first onset at 0.
        first_site = self._first_site(pregnancy is not None)
        first_dx = self._diagnosis(r(), pregnancy is not None)
        plan = [[0, first_site, first_dx, self._course(first_dx)]]
        if first_dx == TOH and r() < 0.015:
            # Multifocal onset: a second site on the same day.
            site2 = self._migrate(first_site)
            plan.append([0, site2, TOH, self._course(TOH)])
        extra = 0
        u = r()
        if u < 0.205:
            extra = 1 if u > 0.045 else 2
        for _ in range(extra):
            self._add_later_episode(plan)
        # Anchor: the first onset up to FIRST_SPAN days before today (recent onsets more likely). The story then
        # runs on as drawn and is cut at today: later episodes that would start after today are not (yet) there,
        # as in a real registry, where patients seen in recent years have had less time for a second episode.
        first_onset = today - int(self.FIRST_SPAN * r() ** self.RECENCY)
        plan = [e for e in plan if first_onset + e[0] <= today]

        birth = first_onset - int(age * 365.25) - self.between(0, 364)

        # AVN risk factors: a property of the patient, listed on each episode.
        any_avn = any(e[2] == "avascular_necrosis" for e in plan)
        risks: list[str] = []
        if r() < (0.75 if any_avn else 0.09):
            pool = _AVN_RISKS if any_avn else _COMMON_RISKS
            risks.append(self.pick(pool))
            if r() < 0.3:
                second = self.pick(pool)
                if second not in risks:
                    risks.append(second)

        plan.sort(key=lambda e: (e[0], e[1]))
        episodes = []
        for rel, site, dx, course in plan:
            onset = first_onset + rel
            episodes.append(self.episode(
                site, onset, onset + course, dx,
                pregnancy if rel == 0 else None,
                list(risks),
            ))

        notes = self.pick(_PATIENT_NOTES) if r() < 0.08 else ""
        family, given = self._name(sex)
        # Drawn last, so that everything above stays as it was drawn before there were late reviews.
        self._late_review(episodes[-1])
        return Patient(
            mrn=mrn,
            family_name=family,
            given_name=given,
            birth_date=fromordinal(birth),
            sex=sex,
            notes=notes,
            episodes=episodes,
        )

    def _late_review(self, episode: Episode) -> None:
        """The latest of the yearly reviews after the latest episode resolved (within the past year), for most
        patients; about one in seven is lost to follow-up at discharge. The second-episode figures need it: a
        patient is followed up to their latest contact, and without these reviews everyone free of a new
        episode would leave the statistics at discharge while those with one came back."""
        r = self.r
        if not episode.is_toh or episode.resolved_on is None or r() < 0.15:
            return
        day = self.today - int(365 * r())
        if day < episode.resolved_on.toordinal() + 180:
            return  # discharged recently: no review after it yet
        instrument = _INSTRUMENT.get(episode.site.partition("_")[0], "")
        episode.symptoms.append(SymptomRecord(
            date=dt.date.fromordinal(day), pain_nrs=0, function_score=95 if instrument else None,
            function_instrument=instrument, weight_bearing="full", note=_LATE_REVIEW_NOTE))

    def _name(self, sex: str) -> tuple[str, str]:
        families, males, females = self.pick(_ORIGINS)
        feminine = sex == "female" or (sex == "unknown" and self.r() < 0.5)
        family = self.pick(families)
        if isinstance(family, tuple):
            family = family[1] if feminine else family[0]
        given = self.pick(females if feminine else males)
        return family, given

    def _first_site(self, pregnant: bool) -> str:
        r = self.r
        u = r()
        if pregnant:
            joint = "hip" if u < 0.93 else "knee"
            side = "left" if r() < 0.6 else "right"
        else:
            joint = "hip" if u < 0.80 else ("knee" if u < 0.89 else ("ankle" if u < 0.95 else "foot"))
            side = "left" if r() < 0.5 else "right"
        return f"{joint}_{side}"

    def _migrate(self, site: str) -> str:
        """A site the condition migrates to from `site` (never `site` itself)."""
        joint, _, side = site.partition("_")
        other = _other_side(side)
        u = self.r()
        if joint == "hip":
            choices = ((0.55, "hip", other), (0.75, "knee", side), (0.80, "knee", other),
                       (0.90, "ankle", side), (1.0, "foot", side))
        elif joint == "knee":
            choices = ((0.20, "hip", other), (0.35, "hip", side), (0.65, "knee", other),
                       (0.85, "ankle", side), (1.0, "foot", side))
        elif joint == "ankle":
            choices = ((0.30, "ankle", other), (0.55, "knee", side), (0.70, "hip", side),
                       (0.80, "hip", other), (1.0, "foot", side))
        else:
            choices = ((0.30, "foot", other), (0.55, "knee", side), (0.70, "hip", side),
                       (0.80, "hip", other), (1.0, "ankle", side))
        for threshold, j, s in choices:
            if u < threshold:
                return f"{j}_{s}"
        return f"{choices[-1][1]}_{choices[-1][2]}"

    def _diagnosis(self, u: float, pregnant: bool) -> str:
        if pregnant:
            return TOH if u < 0.97 else "subchondral_insufficiency_fracture"
        for threshold, dx in _REVISED:
            if u < threshold:
                return dx
        return TOH

    def _course(self, dx: str) -> int:
        """Days from onset to resolution."""
        r = self.r
        if dx == TOH:
            u = r()
            if u < 0.86:
                months = self.rng.triangular(4.0, 10.0, 6.5)
            elif u < 0.97:
                months = 10.0 + 4.0 * r()
            else:
                months = 14.0 + 10.0 * r()
        elif dx == "avascular_necrosis":
            months = 10.0 + 14.0 * r()
        elif dx == "stress_fracture":
            months = 3.0 + 3.0 * r()
        elif dx == "subchondral_insufficiency_fracture":
            months = 4.0 + 5.0 * r()
        elif dx == "septic_arthritis":
            months = 1.5 + 2.0 * r()
        elif dx == "tuberculous_arthropathy":
            months = 9.0 + 6.0 * r()
        elif dx == "crps":
            months = 6.0 + 8.0 * r()
        else:
            months = 3.0 + 6.0 * r()
        return int(months * 30.44)

    def _add_later_episode(self, plan: list[list]) -> None:
        """A recurrence at the same site or a migration to another, 3 months to 4 years later."""
        r = self.r
        prev = max(plan, key=lambda e: (e[0], e[1]))
        prev_onset, prev_site, _, prev_course = prev
        if r() < 0.3 and prev_course < 4 * 365 - 60:
            site = prev_site
            room = 4 * 365 - prev_course - 30
            onset = prev_onset + prev_course + 30 + int(room * r() ** 2)
        else:
            site = self._migrate(prev_site)
            onset = prev_onset + 91 + int((4 * 365 - 91) * r() ** 2)
        # Never overlap an earlier episode at the same site: start after it resolved.
        for e_onset, e_site, _, e_course in plan:
            if e_site == site and onset <= e_onset + e_course:
                onset = e_onset + e_course + self.between(30, 210)
        dx = self._diagnosis(r() * 2.33, False)  # about 3% revised
        plan.append([onset, site, dx, self._course(dx)])

    # -- one episode -------------------------------------------------------

    def episode(self, site: str, onset: int, resolved: int, dx: str, pregnancy: str | None,
                risks: list[str]) -> Episode:
        r = self.r
        pick = self.pick
        between = self.between
        today = self.today
        fromordinal = dt.date.fromordinal
        joint = site.partition("_")[0]
        side = site.partition("_")[2]
        hip = joint == "hip"
        toh = dx == TOH
        pregnant = pregnancy is not None and pregnancy != "postpartum"
        course = resolved - onset
        is_resolved = resolved <= today
        horizon = today - onset  # last day offset that may carry a record

        # ---- visits (day offsets from onset) ----
        # Presentation: TOH pain builds up over weeks; septic arthritis presents within days.
        present = between(2, 10) if dx == "septic_arthritis" else between(10, 45)
        visits = [present]
        scheduled = []
        for review in (_W6, _M3, _M6, _M8):
            d = review + between(-7, 12)
            # A review close to a discharge that has happened is replaced by the discharge visit.
            if present + 10 < d < course and (d < course - 14 or course > horizon):
                visits.append(d)
                scheduled.append(d)
        d = _M8 + 61
        while d < course - 20:
            d2 = d + between(-7, 10)
            visits.append(d2)
            d += 61
        after_gap = -1  # the visit after a missed review (or after a drop-out), noted as such
        if len(visits) > 2 and r() < 0.12:
            k = 1 + int(r() * (len(visits) - 1))
            visits.pop(k)
            if k < len(visits):
                after_gap = visits[k]
        if r() < 0.15 and len(visits) > 1:
            # Drops out of follow-up: active episodes become overdue, resolved ones have a gap.
            cut = present + int((course - present) * r())
            kept = [v for v in visits if v <= cut]
            if len(kept) < len(visits):
                visits = kept
                after_gap = course
        discharge = course if course > present else None
        if discharge is not None:
            visits.append(discharge)

        # ---- symptom records ----
        instrument = _INSTRUMENT.get(joint, "")
        pain0 = 6.0 + 3.5 * r()
        func0 = 30.0 + 35.0 * r()
        func1 = 90.0 + 10.0 * r()
        slow = dx in ("avascular_necrosis", "tuberculous_arthropathy")
        treated = course - present if course > present else 1
        symptoms = []
        last_visit = None
        for v in visits:
            if v > horizon:
                break
            f = (v - present) / treated  # share of the course since presentation
            if f > 1.0:
                f = 1.0
            if v == discharge and not slow:
                pain = 0 if r() < 0.6 else 1
                func = int(func1)
                wb = "full"
                note = _DNA_NOTE if v == after_gap else (_DISCHARGE_NOTE if toh else "")
            else:
                if slow:
                    pain = pain0 * (1.0 - 0.35 * f) + 2.0 * r() - 1.0
                    func = func0 + 15.0 * f + 6.0 * r() - 3.0
                    wb = "protected" if f < 0.5 else "partial"
                    if v == discharge:
                        wb = "full" if dx == "tuberculous_arthropathy" else "partial"
                else:
                    pain = pain0 * (1.0 - f) ** 0.8 + 2.0 * r() - 1.0
                    func = func0 + (func1 - func0) * f ** 0.9 + 6.0 * r() - 3.0
                    if f < 0.3:
                        wb = "non" if (v == present and r() < 0.05) else "protected"
                    elif f < 0.65:
                        wb = "partial"
                    else:
                        wb = "full"
                pain = int(pain + 0.5)
                pain = 0 if pain < 0 else (10 if pain > 10 else pain)
                func = int(func + 0.5)
                func = 0 if func < 0 else (100 if func > 100 else func)
                if v == discharge:
                    note = _SLOW_DISCHARGE[dx]
                elif last_visit is None:
                    note = pick(_SYMPTOM_NOTES_FIRST) if toh else ""
                elif v == after_gap:
                    note = _DNA_NOTE
                else:
                    note = ""
            symptoms.append(SymptomRecord(
                date=fromordinal(onset + v),
                pain_nrs=pain,
                function_score=None if (instrument == "" or r() < 0.12) else func,
                function_instrument=instrument,
                weight_bearing=wb,
                note=note,
            ))
            last_visit = v

        # ---- imaging ----
        imaging = self._imaging(joint, side, hip, dx, toh, pregnant, course, present, visits,
                                scheduled, discharge, horizon, onset)

        # ---- treatments ----
        treatments = []
        if present <= horizon:
            start = onset + present
            if dx != "septic_arthritis" or r() < 0.5:
                end = max(start, onset + (int(course * 0.65) if not slow else course))
                treatments.append(Treatment(
                    start=fromordinal(start), kind="protected_weight_bearing",
                    end=fromordinal(end) if end <= today else None,
                    detail=pick(_PWB),
                ))
            detail = "paracetamol 1 g qds" if pregnant else pick(_ANALGESIA)
            end = max(start, onset + (course if r() < 0.5 else int(course * (0.55 + 0.3 * r()))))
            treatments.append(Treatment(
                start=fromordinal(start), kind="analgesia",
                end=fromordinal(end) if end <= today else None,
                detail=detail,
            ))
            if dx in _OTHER_TREATMENT:
                kind, detail, length = _OTHER_TREATMENT[dx]
                s = start + between(0, 10)
                if s <= today:
                    e = s + length
                    treatments.append(Treatment(start=fromordinal(s), kind=kind,
                                                end=fromordinal(e) if e <= today else None, detail=detail))
            if (toh or dx == "avascular_necrosis") and not pregnant:
                u = r()
                s = start + between(7, 40)
                if u < 0.16:
                    detail, length = pick(_BISPHOSPHONATE)
                    kind = "bisphosphonate"
                elif u < 0.21:
                    detail, length = "iloprost 20 µg/day IV over 6 h for 5 days", 4
                    kind = "iloprost"
                elif u < 0.225:
                    detail, length = "salmon calcitonin 200 IU intranasal daily", 61
                    kind = "calcitonin"
                elif u < 0.235:
                    detail, length = "teriparatide 20 µg sc daily", 91
                    kind = "teriparatide"
                else:
                    kind = None
                if kind is not None and s <= today and s - onset < course:
                    e = s + length
                    treatments.append(Treatment(start=fromordinal(s), kind=kind,
                                                end=fromordinal(e) if e <= today else None, detail=detail))
            if dx == "avascular_necrosis" and r() < 0.35:
                s = onset + int(course * (0.5 + 0.4 * r()))
                if s <= today:
                    treatments.append(Treatment(start=fromordinal(s), kind="core_decompression",
                                                end=fromordinal(s),
                                                detail=f"core decompression, {side} femoral head"
                                                if hip else "core decompression"))
            treatments.sort(key=lambda t: t.start)

        # ---- episode notes ----
        if dx != TOH:
            notes = _REVISION_NOTES[dx]
        elif pregnancy == "trimester_3":
            notes = "Onset in the third trimester; MRI without contrast. Delivered at term." \
                if is_resolved and r() < 0.7 else "Onset in the third trimester; MRI without contrast."
        elif pregnancy == "postpartum":
            notes = "Onset in the weeks after delivery."
        else:
            notes = ""

        return Episode(
            site=site,
            symptom_onset=fromordinal(onset),
            resolved_on=fromordinal(resolved) if is_resolved else None,
            diagnosis=dx,
            pregnancy=pregnancy,
            avn_risk_factors=risks,
            notes=notes,
            imaging=imaging,
            symptoms=symptoms,
            treatments=treatments,
        )

    # -- imaging -------------------------------------------------------------

    def _imaging(self, joint, side, hip, dx, toh, pregnant, course, present, visits, scheduled,
                 discharge, horizon, onset) -> list[ImagingStudy]:
        r = self.r
        pick = self.pick
        between = self.between
        fromordinal = dt.date.fromordinal
        studies: list[tuple[int, str]] = []  # (day offset, kind)
        avn = dx == "avascular_necrosis"
        narrowing = dx in ("septic_arthritis", "tuberculous_arthropathy")
        fracture_dx = dx in ("stress_fracture", "subchondral_insufficiency_fracture")
        where = f"{side} {joint}"

        # How this episode's radiologists record the extent.
        u = r()
        record_pct = u < 0.92
        record_volume = 0.80 <= u < 0.96
        record_regions = u < 0.99  # the rest record no extent at all
        volume_full = 55.0 + 30.0 * r() if hip else 30.0 + 20.0 * r()

        first = max(7, present + between(-10, 21))
        extent0 = 40 + int(51 * r())  # 40-90 %
        not_regressing = toh and course > 300 and r() < 0.5
        fracture_first = fracture_dx or (toh and r() < (0.45 if hip else 0.15))
        band_first = (toh and r() < 0.025)
        dce = (not pregnant) and r() < 0.1
        accession_base = int(r() * 90_000_000) + 10_000_000
        timed = r() < 0.6

        def stamp() -> str | None:
            return pick(_TIMES) if timed and r() < 0.8 else None

        def accession() -> str:
            nonlocal accession_base
            accession_base += 1 + int(r() * 5000)
            return "" if r() < 0.1 else f"RA{accession_base}"

        def extent_at(day: int) -> int:
            if not_regressing and day < 0.75 * course:
                e = extent0 * (1.0 + 0.15 * r())
            elif avn:
                e = extent0 * (0.6 + 0.3 * r())
            else:
                rest = 1.0 - (day - first) / (course - first) if course > first else 0.0
                if rest <= 0.0:
                    return 0
                e = extent0 * rest ** 0.7 * (0.85 + 0.3 * r())
            e = 5 * int(e / 5 + 0.5)
            return 100 if e > 100 else e

        def regions_for(e: int) -> list[str]:
            if e <= 0:
                return []
            if not hip:  # no draw: the cohort stays what it was but for these names
                order = _JOINT_REGIONS.get(joint, ("other",))
                return list(order[:1 if e < 35 else 2 if e < 70 else 3])
            if e < 35:
                return list(_HIP_REGIONS[0])
            if e < 70 or r() < 0.4:
                return list(_HIP_REGIONS[1])
            return list(_HIP_REGIONS[2])

        def mri(day: int, kind: str) -> ImagingStudy:
            if kind == "first":
                e = extent0
            elif kind == "final":
                e = 0
            else:
                e = extent_at(day)
            edema = e > 0
            band = avn and kind != "first" or (band_first and kind == "first")
            collapse = avn and kind == "final" and r() < 0.4 or (avn and kind == "follow" and r() < 0.15)
            if not edema and avn:
                edema = True
                e = 10
            if kind == "first":
                fracture = fracture_first
            elif fracture_dx:
                fracture = kind != "final"
            else:
                fracture = fracture_first and kind == "follow" and r() < 0.3
            sparing = None
            if hip and edema and not avn:
                sparing = (kind == "first" and r() < 0.9 and not avn) or (kind == "follow" and r() < 0.3)
            vol = round(volume_full * e / 100.0, 1) if record_volume else None
            report_bits = []
            if edema and record_pct:
                report_bits.append(f"MRI {where}: bone marrow oedema pattern, about {e}%.")
            elif edema:
                report_bits.append(f"MRI {where}: bone marrow oedema pattern.")
            else:
                report_bits.append(f"MRI {where}: bone marrow oedema resolved.")
            if band:
                report_bits.append("Subchondral low-signal band on T2.")
            if narrowing:
                report_bits.append("Joint space narrowed; effusion.")
            return ImagingStudy(
                date=fromordinal(onset + day),
                modality="MRI",
                time=stamp(),
                edema_extent_pct=e if record_pct else None,
                edema_volume_ml=vol,
                edema_regions=regions_for(e) if record_regions else [],
                t1_low_signal=edema,
                t2_high_signal=edema,
                subchondral_fracture_line=fracture,
                subchondral_t2_low_band=band,
                collapse=collapse,
                medial_head_sparing=sparing,
                joint_effusion=(narrowing or (edema and r() < 0.6)) if kind != "final" else False,
                joint_space_narrowed=narrowing,
                dce_enhancement=("none" if avn else "early") if dce and kind == "first" else None,
                accession=accession(),
                report=" ".join(report_bits) if r() < 0.7 else "",
            )

        def radiograph(day: int) -> ImagingStudy:
            osteopenic = r() < (0.75 if day >= 28 else 0.15)
            return ImagingStudy(
                date=fromordinal(onset + day),
                modality="XR",
                time=stamp(),
                osteopenia=osteopenic,
                subchondral_cortical_loss=(osteopenic and r() < 0.25) if hip else None,
                joint_space_narrowed=narrowing,
                collapse=True if (avn and day > 200 and r() < 0.3) else (False if hip else None),
                accession=accession(),
                report=(f"XR {where}: " + ("regional osteopenia; " if osteopenic else "no osteopenia; ")
                        + ("joint space narrowed." if narrowing else "joint space preserved."))
                if r() < 0.6 else "",
            )

        # First MRI, within weeks of onset.
        if first <= horizon:
            studies.append((first, "first"))
        # Radiographs: at presentation, sometimes again at about 6 weeks.
        if not pregnant:
            if r() < 0.65:
                studies.append((present, "xr"))
            if scheduled and r() < 0.3:
                studies.append((scheduled[0], "xr"))
            if r() < 0.08:
                studies.append((max(7, first + between(-5, 10)), "nm"))
            if (fracture_dx or avn) and r() < 0.3:
                studies.append((first + between(3, 30), "ct"))
        # Follow-up MRIs at the reviews.
        follow_p = 0.55
        for v in visits:
            if v == discharge:
                if (hip or r() < 0.4) and r() < 0.3:
                    studies.append((v, "final"))
            elif v >= first + 35 and v >= _M3 - 10 and r() < follow_p:
                studies.append((v, "follow"))
                follow_p = 0.4

        out: list[ImagingStudy] = []
        for day, kind in studies:
            if day > horizon:
                continue
            if kind == "first" or kind == "follow" or kind == "final":
                out.append(mri(day, kind))
            elif kind == "xr":
                out.append(radiograph(day))
            elif kind == "nm":
                uptake = ("photopenic" if r() < 0.6 else "increased_homogeneous") if avn else (
                    "focal" if fracture_dx else "increased_homogeneous")
                out.append(ImagingStudy(
                    date=fromordinal(onset + day), modality="NM", time=stamp(),
                    scintigraphy_uptake=uptake, accession=accession(),
                    report=f"Bone scintigraphy: {uptake.replace('_', ' ')} uptake, {where}.",
                ))
            else:
                out.append(ImagingStudy(
                    date=fromordinal(onset + day), modality="CT", time=stamp(),
                    subchondral_fracture_line=fracture_dx,
                    collapse=avn and r() < 0.3,
                    joint_space_narrowed=False,
                    accession=accession(),
                ))
        out.sort(key=lambda s: (s.date, s.time or ""))
        return out
