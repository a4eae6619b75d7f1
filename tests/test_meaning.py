"""Meaning invariants, hidden text and language checks: each fires on its input and stays quiet on a clean one."""

from __future__ import annotations

import pytest
from conftest import edit

from pipeline import checks, meaning, spans, textscan
from pipeline.content import read_source
from pipeline.errors import ContentError

# (check id, language, string id, bad translation, good translation)
CASES = [
    ("units", "es", "rescue-breathing",
     "Si no respira, inclina su cabeza hacia atrás, tápale la nariz y sopla en su boca una vez cada 5 minutos.",
     "Si no respira, inclina su cabeza hacia atrás, tápale la nariz y sopla en su boca una vez cada 5 segundos."),
    ("units", "vi", "give-naloxone",
     "Cho người đó dùng naloxone (Narcan) nếu bạn có, và cho thêm một liều nếu sau 2 đến 3 giờ không có thay đổi.",
     "Cho người đó dùng naloxone (Narcan) nếu bạn có, và cho thêm một liều nếu sau 2 đến 3 phút không có thay đổi."),
    ("negation", "fr", "naloxone-still-give-for-mixes",
     "La naloxone n'agit pas sur les benzos, mais donnez-la quand même : elle agit sur les opioïdes et fera du mal à la personne.",
     "La naloxone n'agit pas sur les benzos, mais donnez-la quand même : elle agit sur les opioïdes et ne fera pas de mal à la personne."),
    ("negation", "zh-Hans", "dont-use-alone",
     "要独自使用：找人陪着你，或者打“不要独自使用”热线，这样出事时帮助能很快赶到。",
     "不要独自使用：找人陪着你，或者打“不要独自使用”热线，这样出事时帮助能很快赶到。"),
    ("negation", "fa", "call-emergency",
     "همین حالا با {emergency} تماس بگیرید، آدرس را بدهید و بگویید که فرد نفس می کشد یا بیدار نمی شود.",
     "همین حالا با {emergency} تماس بگیرید، آدرس را بدهید و بگویید که فرد نفس نمی‌کشد یا بیدار نمی‌شود."),
    ("negation", "es", "treatment-works",
     "El tratamiento no funciona, y algunos medicamentos, como la metadona, reducen el riesgo de morir por sobredosis.",
     "El tratamiento funciona, y algunos medicamentos, como la metadona, reducen el riesgo de morir por sobredosis."),
    ("drug-names", "es", "give-naloxone",
     "Dale naltrexona (Narcan) si la tienes, y dale otra dosis si no hay cambio en 2 a 3 minutos.",
     "Dale naloxona (Narcan) si la tienes, y dale otra dosis si no hay cambio en 2 a 3 minutos."),
    ("drug-names", "ar", "treatment-works",
     "العلاج ينجح، وبعض الأدوية، مثل الترامادول، تقلل خطر الموت بسبب الجرعة الزائدة.",
     "العلاج ينجح، وبعض الأدوية، مثل الميثادون، تقلل خطر الموت بسبب الجرعة الزائدة."),
    ("drug-names", "zh-Hans", "fake-pills-fentanyl",
     "街头或网上买的“Xanax”可能是假药，里面可能藏有卡芬太尼，看不见、闻不到、也尝不出来。",
     "街头或网上买的“Xanax”可能是假药，里面可能藏有芬太尼，看不见、闻不到、也尝不出来。"),
    ("positions", "pt", "side-and-stay",
     "Se a pessoa estiver respirando, vire-a de costas para ela não se engasgar, e fique com ela até a ajuda chegar.",
     "Se a pessoa estiver respirando, vire-a de lado para ela não se engasgar, e fique com ela até a ajuda chegar."),
    ("positions", "tl", "rescue-breathing",
     "Kung hindi siya humihinga, iyuko ang kanyang ulo, pisilin ang kanyang ilong, at hipan ang kanyang bibig nang isang beses bawat 5 segundo.",
     "Kung hindi siya humihinga, itingala ang kanyang ulo, pisilin ang kanyang ilong, at hipan ang kanyang bibig nang isang beses bawat 5 segundo."),
    ("opposites", "es", "signs-wont-wake",
     "Si una persona no despierta, tiene el cuerpo flojo y las pupilas muy dilatadas, puede estar teniendo una sobredosis.",
     "Si una persona no despierta, tiene el cuerpo flojo y las pupilas diminutas, puede estar teniendo una sobredosis."),
    ("glossary-drug", "es", "fake-pills-fentanyl",
     "El «Xanax» de la calle puede ser falso y tener fentanyl, que no se puede ver, oler ni saborear.",
     "El «Xanax» de la calle puede ser falso y tener fentanilo, que no se puede ver, oler ni saborear."),
    ("foreign-sentence", "es", "side-and-stay",
     "Si respira, ponla de lado para que no se atragante. Stay with them until help comes, do not leave.",
     "Si respira, ponla de lado para que no se atragante y quédate con ella hasta que llegue la ayuda."),
    ("foreign-sentence", "ar", "call-emergency",
     "اتصل فورًا بالرقم {emergency}. Give the address and say the person is not breathing.",
     "اتصل فورًا بالرقم {emergency}، وأعطِ العنوان، وقل إن الشخص لا يتنفس أو لا يستيقظ."),
    ("homoglyphs", "fr", "give-naloxone",
     "Donnez de la nal\u043exone (Narcan) si vous en avez, et une autre dose s'il n'y a aucun changement après 2 à 3 minutes.",
     "Donnez de la naloxone (Narcan) si vous en avez, et une autre dose s'il n'y a aucun changement après 2 à 3 minutes."),
    ("invisible", "es", "call-emergency",
     "Llama al {emergency}\u3164 ahora, da la dirección y di que la persona no respira o no despierta.",
     "Llama al {emergency} ahora, da la dirección y di que la persona no respira o no despierta."),
    ("invisible", "fa", "call-emergency",
     "همین حالا با {emergency} تماس بگیرید\u200d، آدرس را بدهید و بگویید که فرد نفس نمی‌کشد یا بیدار نمی‌شود.",
     "همین حالا با {emergency} تماس بگیرید، آدرس را بدهید و بگویید که فرد نفس نمی‌کشد یا بیدار نمی‌شود."),
    ("markup", "es", "call-emergency",
     "Llama al {emergency} <strong ahora, da la dirección y di que la persona no respira o no despierta.",
     "Llama al {emergency} ahora, da la dirección y di que la persona no respira o no despierta."),
    ("urls", "es", "free-confidential-help",
     "Hay líneas de ayuda gratis y confidenciales: llama al {helpline} o visita Ayuda-Drogas.ORG/linea.",
     "Hay líneas de ayuda gratis y confidenciales: llama al {helpline} o visita HTTPS://WWW.SAMHSA.GOV/find-help/national-helpline."),
    ("numeral-forms", "es", "rescue-breathing",
     "Si no respira, inclina su cabeza hacia atrás, tápale la nariz y sopla en su boca una vez cada ５ segundos.",
     "Si no respira, inclina su cabeza hacia atrás, tápale la nariz y sopla en su boca una vez cada 5 segundos."),
    ("numeral-forms", "ar", "rescue-breathing",
     "إذا كان الشخص لا يتنفس، أمِل رأسه إلى الخلف، وأغلق أنفه بأصابعك، وانفخ في فمه نفسًا واحدًا كل ⁵ ثوانٍ.",
     "إذا كان الشخص لا يتنفس، أمِل رأسه إلى الخلف، وأغلق أنفه بأصابعك، وانفخ في فمه نفسًا واحدًا كل ٥ ثوانٍ."),
    ("doubled-words", "vi", "dont-stop-benzos-suddenly",
     "Nếu bạn dùng benzo hằng ngày, đừng đừng ngưng đột ngột; việc này có thể gây co giật, nên hãy nhờ bác sĩ giúp.",
     "Nếu bạn dùng benzo hằng ngày, đừng ngưng đột ngột mà giảm từ từ; việc này có thể gây co giật, nên hãy nhờ bác sĩ giúp."),
    ("doubled-words", "zh-Hans", "dont-stop-benzos-suddenly",
     "如果你每天都服用苯二氮卓类药物，不要一下子全部停掉停掉；这可能引起抽搐，请找医生帮忙。",
     "如果你每天都服用苯二氮卓类药物，不要一下子停掉，要慢慢减量；这可能引起抽搐，请找医生帮忙。"),
    ("doubled-words", "tl", "dont-stop-benzos-suddenly",
     "Kung araw-araw kang umiinom ng benzos, huwag huwag itong itigil nang biglaan; puwede itong magdulot ng seizure, kaya humingi ng tulong sa doktor.",
     "Kung araw-araw kang umiinom ng benzos, huwag itong itigil nang biglaan kundi isa-isa; puwede itong magdulot ng seizure, kaya humingi ng tulong sa doktor."),
    ("wording", "fr", "if-unsure-act",
     "Si vous ne savez pas si des toxicomanes sont juste sous l'effet d'une drogue ou en surdose, agissez comme pour une surdose.",
     "Si vous ne savez pas si une personne est juste sous l'effet d'une drogue ou en surdose, agissez comme pour une surdose."),
    ("wording", "ar", "if-unsure-act",
     "إذا لم تعرف هل المدمن تحت تأثير المخدر فقط أم أصيب بجرعة زائدة، فتعامل مع الحالة على أنها جرعة زائدة.",
     "إذا لم تعرف هل الشخص تحت تأثير المخدر فقط أم أصيب بجرعة زائدة، فتعامل مع الحالة على أنها جرعة زائدة."),
    # From the held-out corpus (tests/corpus/heldout/): a foreign tail of two short clauses,
    # "stay" turned into "leave", a lexical negative ("harmless") carrying the English "not",
    # and an adjective doubled to soften it.
    ("foreign-sentence", "es", "dont-stop-benzos-suddenly",
     "Si tomas benzos todos los días, no las dejes de golpe; it can cause seizures, so get a doctor's help.",
     "Si tomas benzos todos los días, no las dejes de golpe; puede causar convulsiones, así que pide ayuda a un médico."),
    ("opposites", "es", "side-and-stay",
     "Si respira, acuesta a la persona de lado para que no se atragante, y vete antes de que llegue la ayuda.",
     "Si respira, acuesta a la persona de lado para que no se atragante, y no te vayas hasta que llegue la ayuda."),
    ("opposites", "vi", "side-and-stay",
     "Nếu người đó còn thở, hãy đặt họ nằm nghiêng để không bị sặc, và rời khỏi họ cho đến khi có người đến giúp.",
     "Nếu người đó còn thở, hãy đặt họ nằm nghiêng để không bị sặc, và ở bên họ cho đến khi có người đến giúp."),
    ("negation", "vi", "naloxone-still-give-for-mixes",
     "Naloxone có tác dụng với benzo, nhưng vẫn hãy dùng: thuốc có tác dụng với opioid và hoàn toàn vô hại đối với người đó.",
     "Naloxone không có tác dụng với benzo, nhưng vẫn hãy dùng: thuốc có tác dụng với opioid và hoàn toàn vô hại đối với người đó."),
    ("negation", "es", "if-unsure-act",
     "Si alguien está drogado o sufre una sobredosis, actúa como si fuera una sobredosis.",
     "Si dudas entre si alguien está drogado o sufre una sobredosis, actúa como si fuera una sobredosis."),
    ("negation", "ar", "fake-pills-fentanyl",  # a negation repeated over a list is one
     "حبوب «Xanax» التي تُباع في الشارع أو على الإنترنت لا يمكن أن تكون مزيفة وقد تحتوي على فنتانيل لا يمكنك أن تراه ولا أن تشمه ولا أن تتذوقه.",
     "حبوب «Xanax» التي تُباع في الشارع أو على الإنترنت قد تكون مزيفة وقد تحتوي على فنتانيل لا يمكنك أن تراه ولا أن تشمه ولا أن تتذوقه."),
    ("negation", "es", "fake-pills-fentanyl",
     "El «Xanax» comprado en la calle o por internet no puede ser falso y contener fentanilo, que no se ve, no huele y no sabe a nada.",
     "El «Xanax» comprado en la calle o por internet puede ser falso y contener fentanilo, que no se ve, no huele y no sabe a nada."),
    ("negation", "fa", "fentanyl-test-strips",  # بی خطر renders "safe", so it is not the "not"
     "نوارهای تست می توانند فنتانیل را در قرص یا پودر پیدا کنند، اما جواب منفی به این معنی است که بی خطر است.",
     "نوارهای تست می توانند فنتانیل را در قرص یا پودر پیدا کنند، اما جواب منفی به این معنی نیست که بی خطر است."),
    ("doubled-words", "ar", "call-emergency",
     "اتصل فورًا بالرقم {emergency}، وأعطِ العنوان، وقل إن الشخص لا يتنفس لا يتنفس أو لا يستيقظ.",
     "اتصل فورًا بالرقم {emergency}، وأعطِ العنوان، وقل إن الشخص لا يتنفس أو لا يستيقظ."),
    ("opposites", "fr", "signs-wont-wake",
     "Une personne qui ne se réveille pas, qui est toute molle et qui a de très grosses pupilles fait peut-être une surdose.",
     "Une personne qui ne se réveille pas, qui est toute molle et qui a de toutes petites pupilles fait peut-être une surdose."),
    ("wording", "fr", "call-emergency",  # masculine singular of a listed feminine/plural
     "Appelez le {emergency} tout de suite, donnez l'adresse et dites que le drogué ne respire pas ou ne se réveille pas.",
     "Appelez le {emergency} tout de suite, donnez l'adresse et dites que la personne ne respire pas ou ne se réveille pas."),
    ("doubled-words", "vi", "rescue-breathing",
     "Nếu người đó không thở, hãy ngửa đầu họ ra sau, bịt mũi mũi họ lại, và cứ mỗi 5 giây thổi một hơi vào miệng họ.",
     "Nếu người đó không thở, hãy ngửa đầu họ ra sau, bịt chặt chặt mũi họ lại, và cứ mỗi 5 giây thổi một hơi vào miệng họ."),
]


@pytest.fixture(scope="module")
def shipped_source():
    """The repository's own source/, read once (these tests only read it)."""
    from pathlib import Path

    from pipeline.project import Project

    return read_source(Project(Path(__file__).resolve().parents[1]))


@pytest.mark.parametrize("check_id,language,string_id,bad,good", CASES, ids=[f"{c[0]}-{c[1]}" for c in CASES])
def test_check_fires_on_bad_and_not_on_good(shipped_source, check_id, language, string_id, bad, good):
    source = shipped_source
    fired = [f for f in checks.check_translation(source, language, string_id, bad) if f.check == check_id]
    assert fired and fired[0].severity == checks.ERROR
    quiet = [f for f in checks.check_translation(source, language, string_id, good) if f.severity == checks.ERROR]
    assert quiet == [], [f.format() for f in quiet]


def test_glossary_warning_still_covers_terms_that_are_not_drugs(project):
    edit(project.source / "glossary.yaml", "terms:\n", "terms:\n  overdose:\n    es: sobredosis\n")
    source = read_source(project)
    bad = "Si no sabes si alguien está bajo los efectos de la droga o tiene una intoxicación, trátalo como una intoxicación."
    assert "glossary" in {f.check for f in checks.check_translation(source, "es", "if-unsure-act", bad)}
    good = "Si no sabes si alguien solo está bajo los efectos de la droga o tiene una sobredosis, trátalo como una sobredosis."
    assert "glossary" not in {f.check for f in checks.check_translation(source, "es", "if-unsure-act", good)}


def test_invariants_in_facts_yaml_set_what_the_english_does_not_show(project):
    facts = project.source / "facts.yaml"
    text = "Si respira, acuesta a la persona de lado para que no se atragante, y quédate con ella hasta que llegue la ayuda."
    assert "positions" not in {f.check for f in checks.check_translation(read_source(project), "es", "side-and-stay", text)}
    edit(facts, "    text: \"If they are breathing, roll them on their side so they don't choke, and stay until help comes.\"\n",
         "    text: \"If they are breathing, roll them on their side so they don't choke, and stay until help comes.\"\n    invariants: {side: 2}\n")
    findings = [f for f in checks.check_translation(read_source(project), "es", "side-and-stay", text) if f.check == "positions"]
    assert findings and "'side' 2×" in findings[0].message


def test_bad_lexicon_and_invariants_are_reported_with_file_and_line(project):
    edit(project.source / "lexicon" / "es.yaml", "  tramadol: {forms: [tramadol]}\n", "  tramadol: {forms: [tramadol]}\n  tramadoll: {forms: [x]}\n")
    edit(project.source / "facts.yaml", "    invariants: {negation: [0, 1]}\n", "    invariants: {negation: [0, 1], sidee: 1}\n")
    with pytest.raises(ContentError) as raised:
        read_source(project)
    messages = [p.format(project.root) for p in raised.value.problems]
    assert any(m.startswith("source/lexicon/es.yaml:") and "tramadoll is not defined in en.yaml" in m for m in messages), messages
    assert any(m.startswith("source/facts.yaml:") and "unknown concept 'sidee'" in m for m in messages), messages


def test_negation_counts_follow_each_language(shipped_source):
    lex = shipped_source.lexicons
    assert meaning.count_negations(lex["zh-Hans"], "看不见、闻不到、也尝不出来") == (1, 0)
    assert meaning.count_negations(lex["zh-Hans"], "检测里面有没有芬太尼") == (0, 0)
    assert meaning.count_negations(lex["fr"], "Ne consommez jamais seul") == (1, 0)
    assert meaning.count_negations(lex["es"], "si no hay ningún cambio") == (1, 0)
    assert meaning.count_negations(lex["ar"], "فلا تتوقف عنها") == (1, 0)
    assert meaning.count_negations(lex["fa"], "نفس نمی‌کشد و نزدیک است") == (1, 0)
    assert meaning.count_negations(lex["tl"], "hindi humihinga at huwag umalis") == (1, 0)  # beside a negation
    assert meaning.count_negations(lex["tl"], "hindi humihinga; huwag umalis") == (1, 1)
    assert meaning.count_negations(lex["zh-Hans"], "如果有人醒不过来") == (1, 0)  # 不过 "but" is excluded, 醒不过来 is not
    assert meaning.count_negations(lex["zh-Hans"], "不过你要小心") == (0, 0)
    # A list negated item by item is one run (what "a negation was added" compares).
    assert meaning.count(lex["es"], "que no se ve, no huele y no sabe a nada").negation_runs == 1
    assert meaning.count(lex["es"], "La naloxona no funciona contra las benzos, así que no la uses").negation_runs == 2
    assert meaning.count(lex["es"], "No respira. No despierta.").negation_runs == 2


def test_longest_form_wins_and_exclusions_apply(shipped_source):
    lex = shipped_source.lexicons
    assert [c for c, _ in meaning.find_concepts(lex["zh-Hans"], "卡芬太尼和芬太尼")] == ["carfentanil", "fentanyl"]
    assert [c for c, _ in meaning.find_concepts(lex["vi"], "đừng bao giờ dùng một mình")] == []
    assert [c for c, _ in meaning.find_concepts(lex["ar"], "والنالوكسون بعد 3 دقائق")] == ["naloxone", "minute"]


def test_urls_are_found_as_a_browser_links_them():
    assert spans.find_urls("see Example.ORG/path, WWW.CDC.GOV or HTTPS://X.COM/a.") == ["WWW.CDC.GOV", "HTTPS://X.COM/a", "Example.ORG/path"]
    assert spans.find_urls("EE. UU. y 2.5 mg, e.g. fr.po") == []
    # An e-mail address is linked too (mailto:) and is judged whole against the allowlist.
    assert spans.find_urls("escribe a Ayuda@Drogas-ES.org.") == ["Ayuda@Drogas-ES.org"]
    assert not spans.url_allowed("ayuda@drogas-es.org", ["https://www.samhsa.gov/"])
    assert spans.url_allowed("HTTPS://WWW.CDC.GOV/Stop-Overdose/x", ["https://www.cdc.gov/stop-overdose/"])
    assert not spans.url_allowed("cdc.gov.evil.com/stop-overdose/", ["https://www.cdc.gov/stop-overdose/"])


def test_numbers_and_phone_numbers_are_read_in_every_numeral_form():
    assert spans.find_numbers("cada ⁵ segundos, ５ min, ٣ دقائق, ۵ ثانیه, ②, Ⅻ") == ["5", "5", "3", "5", "2", "12"]
    assert spans.find_phone_numbers("llama al １-８００-５５５-０１９９") == ["1-800-555-0199"]
    assert spans.find_numbers("一起 五") == []


def test_default_ignorables_beyond_the_old_list():
    from pipeline.ignorables import is_default_ignorable

    assert all(is_default_ignorable(c) for c in "\u034f\u115f\u1160\u3164\uffa0\u180b\u180f\u00ad\u2063")
    assert not any(is_default_ignorable(c) for c in "a \u00a0ب۵")


def test_mixed_scripts_but_not_cjk_beside_latin():
    assert textscan.mixed_script_words("nal\u043exone", "LATIN")
    assert textscan.mixed_script_words("\u0425\u0430nax", "LATIN")
    assert not textscan.mixed_script_words("买的Xanax可能 24/7全天", "HAN")
    assert not textscan.mixed_script_words("naloxone Налоксон", "LATIN")  # a Cyrillic word that looks Cyrillic is the script check's


def test_foreign_sentence_detector_is_quiet_on_short_and_mixed_text():
    languages = ("en", "es", "fr", "pt", "vi", "tl")
    assert textscan.foreign_sentences("Llama al 911. OK.", "es", languages) == []
    found = textscan.foreign_sentences("Llama ahora. Call them now and give them the address please.", "es", languages)
    assert found and found[0][1] == "en"


def test_alphabet_vetoes_a_foreign_verdict(shipped_source):
    languages = tuple(shipped_source.languages)
    letters = {code: lexicon.letters for code, lexicon in shipped_source.lexicons.items()}
    clause = "Hãy giảm từ từ. Việc ngưng ngay có thể gây co giật."
    assert textscan.foreign_sentences(clause, "vi", languages, (), letters) == []
    assert textscan.foreign_sentences(clause, "vi", languages, (), {}) != []  # lingua alone calls the sentence Tagalog
