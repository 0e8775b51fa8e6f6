//! IMS QTI 2.1 for moving items to and from other assessment platforms.
//!
//! Covered: `choiceInteraction` (single and multiple response; a two-choice 正确/错误 item is
//! a true/false item) and `extendedTextInteraction` (short answer and essay, with the marking
//! guide in a scorer `rubricBlock`). Points travel as the `MAXSCORE` outcome. A content package
//! (`imsmanifest.xml` plus one XML file per item) carries the metadata QTI puts in the
//! manifest: the knowledge point as an LOM keyword, the difficulty on LOM's five-step scale,
//! and, in our own namespace, subject, level, work type and kind, so that an export imports
//! back into the same cells.
//!
//! Reading is strict where safety needs it: a document with a DOCTYPE is refused before any
//! entity could be declared (no XXE, no entity expansion), only the five XML entities and
//! character references are resolved, and an interaction we do not model is refused by name
//! rather than imported half.

use quick_xml::Reader;
use quick_xml::XmlVersion;
use quick_xml::events::{BytesRef, BytesStart, Event};

use super::{ItemContent, OPTION_LABELS, TRUE_FALSE_OPTIONS};
use crate::exam::{Difficulty, ItemKind, Subject};

pub const QTI_NAMESPACE: &str = "http://www.imsglobal.org/xsd/imsqti_v2p1";
pub const OUR_NAMESPACE: &str = "https://gongkao.example.cn/xsd/item-meta-v1";
/// The resource type of one item in a QTI 2.1 content package.
pub const ITEM_RESOURCE_TYPE: &str = "imsqti_item_xmlv2p1";

/// One item as read from QTI.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QtiItem {
    pub identifier: String,
    pub title: String,
    pub kind: ItemKind,
    pub content: ItemContent,
    /// From the `MAXSCORE` outcome, in tenths.
    pub points_tenths: Option<u32>,
    /// `src` of every `img` in the item body, in order; the package supplies the bytes.
    pub image_hrefs: Vec<String>,
}

/// What the manifest says about one item resource.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ManifestEntry {
    pub identifier: String,
    pub href: String,
    /// Other files of the resource (images).
    pub files: Vec<String>,
    pub knowledge_point: Option<String>,
    pub difficulty: Option<Difficulty>,
    pub subject: Option<Subject>,
    pub level: Option<u8>,
    pub work_type: Option<String>,
    pub kind: Option<ItemKind>,
}

/// Escapes text for element content and attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            _ => out.push(c),
        }
    }
    out
}

fn paragraphs(text: &str) -> String {
    text.lines().map(|line| format!("      <p>{}</p>\n", escape(line))).collect()
}

/// Writes one `assessmentItem`. `image_hrefs` are the package paths of `content.images`.
pub fn write_item(
    identifier: &str,
    title: &str,
    kind: ItemKind,
    content: &ItemContent,
    points_tenths: u32,
    image_hrefs: &[String],
) -> String {
    let mut xml = String::new();
    xml.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    xml.push_str(&format!(
        "<assessmentItem xmlns=\"{QTI_NAMESPACE}\" identifier=\"{}\" title=\"{}\" adaptive=\"false\" timeDependent=\"false\">\n",
        escape(identifier),
        escape(title)
    ));
    if kind.is_objective() {
        let cardinality = if kind == ItemKind::MultipleChoice { "multiple" } else { "single" };
        xml.push_str(&format!(
            "  <responseDeclaration identifier=\"RESPONSE\" cardinality=\"{cardinality}\" baseType=\"identifier\">\n    <correctResponse>\n"
        ));
        for k in &content.key {
            if let Some(label) = OPTION_LABELS.get(*k) {
                xml.push_str(&format!("      <value>{label}</value>\n"));
            }
        }
        xml.push_str("    </correctResponse>\n  </responseDeclaration>\n");
    } else {
        xml.push_str("  <responseDeclaration identifier=\"RESPONSE\" cardinality=\"single\" baseType=\"string\"/>\n");
    }
    xml.push_str("  <outcomeDeclaration identifier=\"SCORE\" cardinality=\"single\" baseType=\"float\">\n    <defaultValue><value>0</value></defaultValue>\n  </outcomeDeclaration>\n");
    xml.push_str(&format!(
        "  <outcomeDeclaration identifier=\"MAXSCORE\" cardinality=\"single\" baseType=\"float\">\n    <defaultValue><value>{}</value></defaultValue>\n  </outcomeDeclaration>\n",
        crate::exam::blueprint::format_points(u64::from(points_tenths))
    ));
    xml.push_str("  <itemBody>\n    <div class=\"stem\">\n");
    xml.push_str(&paragraphs(&content.stem));
    for href in image_hrefs {
        xml.push_str(&format!("      <p><img src=\"{}\" alt=\"\"/></p>\n", escape(href)));
    }
    xml.push_str("    </div>\n");
    if kind.is_objective() {
        let max = if kind == ItemKind::MultipleChoice { 0 } else { 1 };
        xml.push_str(&format!("    <choiceInteraction responseIdentifier=\"RESPONSE\" shuffle=\"true\" maxChoices=\"{max}\">\n"));
        for (i, option) in content.options.iter().enumerate() {
            let label = OPTION_LABELS.get(i).copied().unwrap_or("X");
            xml.push_str(&format!("      <simpleChoice identifier=\"{label}\">{}</simpleChoice>\n", escape(option)));
        }
        xml.push_str("    </choiceInteraction>\n");
    } else {
        let lines = if kind == ItemKind::ShortAnswer { 5 } else { 20 };
        xml.push_str(&format!("    <extendedTextInteraction responseIdentifier=\"RESPONSE\" expectedLines=\"{lines}\"/>\n"));
        xml.push_str("    <rubricBlock view=\"scorer\">\n");
        xml.push_str(&paragraphs(&content.marking_guide));
        xml.push_str("    </rubricBlock>\n");
    }
    xml.push_str("  </itemBody>\n");
    if kind.is_objective() {
        // match_correct: all or nothing, the default for multiple choice too; partial credit
        // is a blueprint setting of ours, not part of the item.
        xml.push_str("  <responseProcessing template=\"http://www.imsglobal.org/question/qti_v2p1/rptemplates/match_correct\"/>\n");
    }
    xml.push_str("</assessmentItem>\n");
    xml
}

fn lom_difficulty(d: Difficulty) -> &'static str {
    match d.value() {
        1 => "very easy",
        2 => "easy",
        3 => "medium",
        4 => "difficult",
        _ => "very difficult",
    }
}

fn parse_lom_difficulty(text: &str) -> Option<Difficulty> {
    let value = match text.trim() {
        "very easy" => 1,
        "easy" => 2,
        "medium" => 3,
        "difficult" => 4,
        "very difficult" => 5,
        _ => return None,
    };
    Difficulty::new(value)
}

/// Writes the package manifest for these entries.
pub fn write_manifest(package_id: &str, entries: &[ManifestEntry]) -> String {
    let mut xml = String::new();
    xml.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    xml.push_str(&format!(
        "<manifest xmlns=\"http://www.imsglobal.org/xsd/imscp_v1p1\" xmlns:imsmd=\"http://ltsc.ieee.org/xsd/LOM\" xmlns:gk=\"{OUR_NAMESPACE}\" identifier=\"{}\">\n",
        escape(package_id)
    ));
    xml.push_str("  <metadata>\n    <schema>QTIv2.1 Package</schema>\n    <schemaversion>1.0.0</schemaversion>\n  </metadata>\n");
    xml.push_str("  <organizations/>\n  <resources>\n");
    for e in entries {
        xml.push_str(&format!(
            "    <resource identifier=\"{}\" type=\"{ITEM_RESOURCE_TYPE}\" href=\"{}\">\n      <metadata>\n        <imsmd:lom>\n",
            escape(&e.identifier),
            escape(&e.href)
        ));
        if let Some(kp) = &e.knowledge_point {
            xml.push_str(&format!(
                "          <imsmd:general><imsmd:keyword><imsmd:string language=\"zh-CN\">{}</imsmd:string></imsmd:keyword></imsmd:general>\n",
                escape(kp)
            ));
        }
        if let Some(d) = e.difficulty {
            xml.push_str(&format!(
                "          <imsmd:educational><imsmd:difficulty><imsmd:source>LOMv1.0</imsmd:source><imsmd:value>{}</imsmd:value></imsmd:difficulty></imsmd:educational>\n",
                lom_difficulty(d)
            ));
        }
        xml.push_str("        </imsmd:lom>\n        <gk:item>\n");
        if let Some(s) = e.subject {
            xml.push_str(&format!("          <gk:subject>{}</gk:subject>\n", s.as_str()));
        }
        if let Some(l) = e.level {
            xml.push_str(&format!("          <gk:level>{l}</gk:level>\n"));
        }
        if let Some(w) = &e.work_type {
            xml.push_str(&format!("          <gk:workType>{}</gk:workType>\n", escape(w)));
        }
        if let Some(k) = e.kind {
            xml.push_str(&format!("          <gk:kind>{}</gk:kind>\n", k.as_str()));
        }
        xml.push_str("        </gk:item>\n      </metadata>\n");
        xml.push_str(&format!("      <file href=\"{}\"/>\n", escape(&e.href)));
        for f in &e.files {
            xml.push_str(&format!("      <file href=\"{}\"/>\n", escape(f)));
        }
        xml.push_str("    </resource>\n");
    }
    xml.push_str("  </resources>\n</manifest>\n");
    xml
}

/// A reader that refuses DTDs and unknown entities and hands back local names.
struct Xml<'a> {
    reader: Reader<&'a [u8]>,
}

enum Node {
    Open(String, Vec<(String, String)>),
    /// An element with no content (`<x/>`).
    Empty(String, Vec<(String, String)>),
    Close(String),
    Text(String),
    End,
}

impl<'a> Xml<'a> {
    fn new(text: &'a str) -> Self {
        let mut reader = Reader::from_str(text);
        reader.config_mut().trim_text(false);
        Xml { reader }
    }

    fn next(&mut self) -> Result<Node, String> {
        loop {
            let event = self.reader.read_event().map_err(|e| format!("XML格式错误（位置{}）：{e}", self.reader.buffer_position()))?;
            return Ok(match event {
                Event::Start(e) => Node::Open(local(e.name().as_ref()), attributes(&e)?),
                Event::Empty(e) => Node::Empty(local(e.name().as_ref()), attributes(&e)?),
                Event::End(e) => Node::Close(local(e.name().as_ref())),
                Event::Text(t) => Node::Text(t.xml10_content().into_owned()),
                Event::CData(t) => Node::Text(t.xml10_content().into_owned()),
                Event::GeneralRef(r) => Node::Text(resolve(&r)?),
                Event::DocType(_) => return Err("不接受含DOCTYPE（文档类型或实体声明）的XML文件".to_owned()),
                Event::Eof => Node::End,
                Event::Decl(_) | Event::PI(_) | Event::Comment(_) => continue,
            });
        }
    }
}

fn local(name: &str) -> String {
    match name.rsplit_once(':') {
        Some((_, local)) => local.to_owned(),
        None => name.to_owned(),
    }
}

fn attributes(e: &BytesStart<'_>) -> Result<Vec<(String, String)>, String> {
    let mut out = Vec::new();
    for attr in e.attributes() {
        let attr = attr.map_err(|e| format!("XML属性错误：{e}"))?;
        let value = attr.normalized_value(XmlVersion::Implicit1_0).map_err(|e| format!("XML属性中有无法识别的实体：{e}"))?;
        out.push((local(attr.key.as_ref()), value.into_owned()));
    }
    Ok(out)
}

fn resolve(r: &BytesRef<'_>) -> Result<String, String> {
    if let Ok(Some(c)) = r.resolve_char_ref() {
        return Ok(c.to_string());
    }
    let name = r.xml10_content();
    quick_xml::escape::resolve_predefined_entity(&name)
        .map(str::to_owned)
        .ok_or_else(|| format!("不接受自定义实体 &{name};（只允许XML预定义实体和字符引用）"))
}

fn attr<'v>(attrs: &'v [(String, String)], name: &str) -> Option<&'v str> {
    attrs.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

fn is_block(name: &str) -> bool {
    matches!(name, "p" | "div" | "br" | "li" | "tr" | "h1" | "h2" | "h3" | "h4" | "h5" | "h6" | "blockquote" | "pre")
}

fn tidy(text: &str) -> String {
    text.lines().map(str::trim).filter(|l| !l.is_empty()).collect::<Vec<_>>().join("\n")
}

/// Where text in the item body goes while reading.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Sink {
    Stem,
    Choice,
    Guide,
    Ignore,
}

/// Reads one `assessmentItem`.
pub fn read_item(xml: &str) -> Result<QtiItem, String> {
    let mut doc = Xml::new(xml);
    let mut identifier = String::new();
    let mut title = String::new();
    let mut seen_root = false;
    let mut cardinality = "single".to_owned();
    let mut correct: Vec<String> = Vec::new();
    let mut points_tenths = None;
    let mut stem = String::new();
    let mut guide = String::new();
    let mut choices: Vec<(String, String)> = Vec::new();
    let mut image_hrefs = Vec::new();
    let mut interaction: Option<(String, Vec<(String, String)>)> = None;
    // The path of open elements, to know where text and values belong.
    let mut path: Vec<String> = Vec::new();
    let mut sinks: Vec<Sink> = Vec::new();
    let mut outcome: Option<String> = None;
    let mut in_correct = false;
    loop {
        let node = doc.next()?;
        let (name, attrs, empty) = match node {
            Node::End => {
                if let Some(open) = path.last() {
                    return Err(format!("XML格式错误：文件不完整，元素 <{open}> 未闭合"));
                }
                break;
            }
            Node::Close(name) => {
                if path.last() == Some(&name) {
                    path.pop();
                    sinks.pop();
                }
                match name.as_str() {
                    "correctResponse" => in_correct = false,
                    "outcomeDeclaration" => outcome = None,
                    _ => {}
                }
                if is_block(&name) {
                    push_break(&mut stem, &mut guide, &mut choices, sinks.last().copied().unwrap_or(Sink::Ignore));
                }
                continue;
            }
            Node::Text(text) => {
                let current = path.last().map(String::as_str).unwrap_or("");
                if in_correct && current == "value" {
                    correct.push(text.trim().to_owned());
                } else if current == "value" && outcome.as_deref() == Some("MAXSCORE") {
                    points_tenths = Some(parse_points(&text)?);
                } else {
                    match sinks.last().copied().unwrap_or(Sink::Ignore) {
                        Sink::Stem => stem.push_str(&text),
                        Sink::Guide => guide.push_str(&text),
                        Sink::Choice => {
                            if let Some(last) = choices.last_mut() {
                                last.1.push_str(&text);
                            }
                        }
                        Sink::Ignore => {}
                    }
                }
                continue;
            }
            Node::Open(name, attrs) => (name, attrs, false),
            Node::Empty(name, attrs) => (name, attrs, true),
        };
        let parent = sinks.last().copied().unwrap_or(Sink::Ignore);
        let sink = match name.as_str() {
            "assessmentItem" => {
                seen_root = true;
                identifier = attr(&attrs, "identifier").unwrap_or("").to_owned();
                title = attr(&attrs, "title").unwrap_or("").to_owned();
                Sink::Ignore
            }
            "responseDeclaration" => {
                if attr(&attrs, "identifier") == Some("RESPONSE") {
                    cardinality = attr(&attrs, "cardinality").unwrap_or("single").to_owned();
                }
                Sink::Ignore
            }
            "correctResponse" => {
                in_correct = !empty;
                Sink::Ignore
            }
            "outcomeDeclaration" => {
                outcome = (!empty).then(|| attr(&attrs, "identifier").unwrap_or("").to_owned());
                Sink::Ignore
            }
            "itemBody" => Sink::Stem,
            "choiceInteraction" | "extendedTextInteraction" => {
                if interaction.is_some() {
                    return Err("每道试题只能有一个作答交互，本题有多个".to_owned());
                }
                interaction = Some((name.clone(), attrs.clone()));
                Sink::Ignore
            }
            "prompt" => Sink::Stem,
            "simpleChoice" => {
                let id = attr(&attrs, "identifier").unwrap_or("").to_owned();
                choices.push((id, String::new()));
                Sink::Choice
            }
            "rubricBlock" => {
                if attr(&attrs, "view").is_some_and(|v| v.split_whitespace().any(|v| v == "scorer" || v == "author")) {
                    Sink::Guide
                } else {
                    Sink::Stem
                }
            }
            "img" => {
                if parent == Sink::Stem {
                    match attr(&attrs, "src") {
                        Some(src) => image_hrefs.push(src.to_owned()),
                        None => return Err("图片缺少src属性".to_owned()),
                    }
                } else if parent != Sink::Ignore {
                    return Err("选项和评分要点中不支持图片，图片只能放在题干中".to_owned());
                }
                Sink::Ignore
            }
            other if other.ends_with("Interaction") => {
                return Err(format!(
                    "不支持的作答交互类型 {other}（只支持choiceInteraction单选/多选/判断和extendedTextInteraction简答/论述）"
                ));
            }
            "responseProcessing" | "modalFeedback" | "stylesheet" => Sink::Ignore,
            _ => parent,
        };
        if empty {
            if name == "br" || is_block(&name) {
                push_break(&mut stem, &mut guide, &mut choices, sink);
            }
        } else {
            path.push(name);
            sinks.push(sink);
        }
    }
    if !seen_root {
        return Err("不是QTI 2.1试题文件（缺少assessmentItem元素）".to_owned());
    }
    let Some((interaction, iattrs)) = interaction else {
        return Err("试题没有作答交互（choiceInteraction或extendedTextInteraction）".to_owned());
    };
    let stem = tidy(&stem);
    let (kind, content) = if interaction == "choiceInteraction" {
        let options: Vec<String> = choices.iter().map(|(_, text)| tidy(text).replace('\n', " ")).collect();
        let mut key = Vec::new();
        for value in &correct {
            match choices.iter().position(|(id, _)| id == value) {
                Some(i) => key.push(i),
                None => return Err(format!("标准答案 {value} 不是本题的选项")),
            }
        }
        key.sort_unstable();
        key.dedup();
        let max_choices = attr(&iattrs, "maxChoices").and_then(|v| v.trim().parse::<u32>().ok()).unwrap_or(1);
        let multiple = cardinality == "multiple" || max_choices != 1;
        let kind = if multiple {
            ItemKind::MultipleChoice
        } else if options.len() == 2 && options.iter().map(String::as_str).eq(TRUE_FALSE_OPTIONS) {
            ItemKind::TrueFalse
        } else {
            ItemKind::SingleChoice
        };
        (kind, ItemContent { stem, options, key, marking_guide: tidy(&guide), images: Vec::new() })
    } else {
        let lines = attr(&iattrs, "expectedLines").and_then(|v| v.trim().parse::<u32>().ok()).unwrap_or(20);
        let kind = if lines <= 5 { ItemKind::ShortAnswer } else { ItemKind::Essay };
        (kind, ItemContent { stem, options: Vec::new(), key: Vec::new(), marking_guide: tidy(&guide), images: Vec::new() })
    };
    Ok(QtiItem { identifier, title, kind, content, points_tenths, image_hrefs })
}

fn push_break(stem: &mut String, guide: &mut String, choices: &mut [(String, String)], sink: Sink) {
    match sink {
        Sink::Stem => stem.push('\n'),
        Sink::Guide => guide.push('\n'),
        Sink::Choice => {
            if let Some(last) = choices.last_mut() {
                last.1.push(' ');
            }
        }
        Sink::Ignore => {}
    }
}

fn parse_points(text: &str) -> Result<u32, String> {
    let value: f64 = text.trim().parse().map_err(|_| format!("分值“{}”不是数字", text.trim()))?;
    let tenths = (value * 10.0).round();
    if !(0.0..=1000.0).contains(&tenths) || (value * 10.0 - tenths).abs() > 1e-6 {
        return Err(format!("分值“{}”应在0至100之间，最多一位小数", text.trim()));
    }
    Ok(tenths as u32)
}

/// Reads the item resources of a content package manifest, in document order.
pub fn read_manifest(xml: &str) -> Result<Vec<ManifestEntry>, String> {
    let mut doc = Xml::new(xml);
    let mut entries: Vec<ManifestEntry> = Vec::new();
    let mut path: Vec<String> = Vec::new();
    let mut in_item = false;
    let mut seen_root = false;
    let mut text = String::new();
    loop {
        match doc.next()? {
            Node::End => break,
            Node::Open(name, attrs) if name == "resource" => {
                text.clear();
                let kind = attr(&attrs, "type").unwrap_or("");
                in_item = kind.starts_with("imsqti_item_xmlv2p");
                if in_item {
                    entries.push(ManifestEntry {
                        identifier: attr(&attrs, "identifier").unwrap_or("").to_owned(),
                        href: attr(&attrs, "href").unwrap_or("").to_owned(),
                        ..Default::default()
                    });
                }
                path.push(name);
            }
            Node::Open(name, attrs) => {
                text.clear();
                if name == "manifest" {
                    seen_root = true;
                }
                if name == "file" && in_item {
                    push_file(&mut entries, &attrs);
                }
                path.push(name);
            }
            Node::Empty(name, attrs) => {
                if name == "file" && in_item {
                    push_file(&mut entries, &attrs);
                }
            }
            Node::Close(name) => {
                // Text arrives in pieces (entities are separate events): apply it whole.
                let text = std::mem::take(&mut text);
                if let Some(entry) = entries.last_mut().filter(|_| in_item) {
                    apply_manifest_text(entry, &path, text.trim());
                }
                if name == "resource" {
                    in_item = false;
                }
                if path.last() == Some(&name) {
                    path.pop();
                }
            }
            Node::Text(piece) => text.push_str(&piece),
        }
    }
    if !seen_root {
        return Err("imsmanifest.xml 不是内容包清单（缺少manifest元素）".to_owned());
    }
    Ok(entries)
}

fn apply_manifest_text(entry: &mut ManifestEntry, path: &[String], text: &str) {
    if text.is_empty() {
        return;
    }
    let under = |name: &str| path.iter().any(|p| p == name);
    match path.last().map(String::as_str) {
        Some("string") if under("keyword") => entry.knowledge_point = Some(text.to_owned()),
        Some("value") if under("difficulty") => entry.difficulty = parse_lom_difficulty(text),
        Some("subject") => entry.subject = Subject::parse(text),
        Some("level") => entry.level = text.parse().ok(),
        Some("workType") => entry.work_type = Some(text.to_owned()),
        Some("kind") => entry.kind = ItemKind::parse(text),
        _ => {}
    }
}

fn push_file(entries: &mut [ManifestEntry], attrs: &[(String, String)]) {
    if let (Some(entry), Some(href)) = (entries.last_mut(), attr(attrs, "href"))
        && href != entry.href
        && !entry.files.iter().any(|f| f == href)
    {
        entry.files.push(href.to_owned());
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn item(kind: ItemKind) -> ItemContent {
        match kind {
            ItemKind::TrueFalse => ItemContent {
                stem: "夜间会车应使用近光灯。".into(),
                options: TRUE_FALSE_OPTIONS.map(str::to_owned).to_vec(),
                key: vec![0],
                ..Default::default()
            },
            ItemKind::ShortAnswer | ItemKind::Essay => ItemContent {
                stem: "论述车辆日常维护的要点。\n结合本单位实际。".into(),
                marking_guide: "一、检查（5分）\n二、记录 <表格> & 签字（5分）".into(),
                ..Default::default()
            },
            _ => ItemContent {
                stem: "下列说法正确的是 <b>注意</b> & “引号”？\n第二行 𠮷".into(),
                options: vec!["甲 & 乙".into(), "<script>".into(), "丙".into(), "丁".into()],
                key: if kind == ItemKind::MultipleChoice { vec![0, 2] } else { vec![1] },
                ..Default::default()
            },
        }
    }

    #[test]
    fn every_kind_round_trips() {
        for kind in ItemKind::ALL {
            let content = item(kind);
            let xml = write_item("item-7", "标题 <7>", kind, &content, 15, &[]);
            let back = read_item(&xml).unwrap();
            assert_eq!(back.kind, kind, "{xml}");
            assert_eq!(back.content, content, "{xml}");
            assert_eq!(back.points_tenths, Some(15));
            assert_eq!(back.identifier, "item-7");
            assert_eq!(back.title, "标题 <7>");
        }
    }

    #[test]
    fn images_are_referenced_from_the_stem() {
        let xml = write_item("i1", "", ItemKind::SingleChoice, &item(ItemKind::SingleChoice), 10, &["images/a.png".into()]);
        assert_eq!(read_item(&xml).unwrap().image_hrefs, vec!["images/a.png"]);
    }

    #[test]
    fn doctype_and_custom_entities_are_refused() {
        let xxe = r#"<?xml version="1.0"?><!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><assessmentItem identifier="a"><itemBody><p>&xxe;</p></itemBody></assessmentItem>"#;
        assert!(read_item(xxe).unwrap_err().contains("DOCTYPE"));
        let custom = r#"<assessmentItem identifier="a"><itemBody><p>&xxe;</p></itemBody></assessmentItem>"#;
        assert!(read_item(custom).unwrap_err().contains("自定义实体"));
    }

    #[test]
    fn unknown_interactions_and_bad_documents_are_named() {
        let order = r#"<assessmentItem xmlns="http://www.imsglobal.org/xsd/imsqti_v2p1" identifier="a"><itemBody><orderInteraction responseIdentifier="R"/></itemBody></assessmentItem>"#;
        assert!(read_item(order).unwrap_err().contains("orderInteraction"));
        assert!(read_item("<assessmentItem identifier=\"a\"><itemBody>").is_err());
        assert!(read_item("<html/>").unwrap_err().contains("assessmentItem"));
        let no_interaction = r#"<assessmentItem identifier="a"><itemBody><p>题</p></itemBody></assessmentItem>"#;
        assert!(read_item(no_interaction).unwrap_err().contains("没有作答交互"));
        let bad_key = write_item("a", "", ItemKind::SingleChoice, &item(ItemKind::SingleChoice), 10, &[])
            .replace("<value>B</value>", "<value>Q</value>");
        assert!(read_item(&bad_key).unwrap_err().contains("Q"));
    }

    #[test]
    fn items_from_other_platforms_read() {
        // The shape of the QTI 2.1 example "choice_multiple.xml", trimmed.
        let xml = r#"<?xml version="1.0" encoding="UTF-8"?>
<assessmentItem xmlns="http://www.imsglobal.org/xsd/imsqti_v2p1" identifier="choiceMultiple" title="Composition of Water" adaptive="false" timeDependent="false">
  <responseDeclaration identifier="RESPONSE" cardinality="multiple" baseType="identifier">
    <correctResponse><value>H</value><value>O</value></correctResponse>
  </responseDeclaration>
  <outcomeDeclaration identifier="SCORE" cardinality="single" baseType="float"/>
  <itemBody>
    <choiceInteraction responseIdentifier="RESPONSE" shuffle="true" maxChoices="0">
      <prompt>Which of the following elements are used to form water?</prompt>
      <simpleChoice identifier="H" fixed="false">Hydrogen</simpleChoice>
      <simpleChoice identifier="He" fixed="false">Helium</simpleChoice>
      <simpleChoice identifier="C" fixed="false">Carbon</simpleChoice>
      <simpleChoice identifier="O" fixed="false">Oxygen</simpleChoice>
    </choiceInteraction>
  </itemBody>
  <responseProcessing template="http://www.imsglobal.org/question/qti_v2p1/rptemplates/map_response"/>
</assessmentItem>"#;
        let item = read_item(xml).unwrap();
        assert_eq!(item.kind, ItemKind::MultipleChoice);
        assert_eq!(item.content.stem, "Which of the following elements are used to form water?");
        assert_eq!(item.content.options, ["Hydrogen", "Helium", "Carbon", "Oxygen"]);
        assert_eq!(item.content.key, vec![0, 3]);
        assert_eq!(item.points_tenths, None);
    }

    #[test]
    fn manifests_round_trip() {
        let entries = vec![
            ManifestEntry {
                identifier: "item-1".into(),
                href: "items/item-1.xml".into(),
                files: vec!["images/1-1.png".into()],
                knowledge_point: Some("安全 & 驾驶".into()),
                difficulty: Difficulty::new(4),
                subject: Some(Subject::PostSkills),
                level: Some(3),
                work_type: Some("汽车驾驶员".into()),
                kind: Some(ItemKind::SingleChoice),
            },
            ManifestEntry { identifier: "item-2".into(), href: "items/item-2.xml".into(), ..Default::default() },
        ];
        let xml = write_manifest("pkg", &entries);
        assert_eq!(read_manifest(&xml).unwrap(), entries);
        assert!(read_manifest("<x/>").is_err());
    }
}
