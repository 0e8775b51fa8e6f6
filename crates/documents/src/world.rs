//! A sealed typst [`World`]: the embedded fonts, one template, one JSON file and the
//! document's images.
//!
//! Nothing here touches the file system, the network or the clock: `source` serves only
//! the template being compiled, `file` only that template, the document's data and the
//! images handed in with it, and `today` is `None`.

use std::collections::HashMap;
use std::sync::Arc;

use typst::diag::{FileError, FileResult};
use typst::foundations::{Bytes, Datetime, Duration};
use typst::syntax::{FileId, RootedPath, Source, VirtualPath, VirtualRoot};
use typst::text::{Font, FontBook};
use typst::utils::LazyHash;
use typst::{Library, LibraryExt, World};

use crate::DocumentError;

/// Noto Sans CJK SC Regular, subset (see `assets/fonts/README.md`), SIL OFL 1.1.
static FONT_REGULAR: &[u8] = include_bytes!("../../../assets/fonts/NotoSansCJKsc-Regular.subset.otf");
/// Noto Sans CJK SC Bold, subset (see `assets/fonts/README.md`), SIL OFL 1.1.
static FONT_BOLD: &[u8] = include_bytes!("../../../assets/fonts/NotoSansCJKsc-Bold.subset.otf");

/// The family name the templates select; it must match the fonts' name table.
pub(crate) const FONT_FAMILY: &str = "Noto Sans CJK SC";

/// Virtual path of the data file every template reads with `json(...)`.
pub(crate) const DATA_PATH: &str = "/data.json";

/// Which template to compile.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Template {
    Roster,
    Receipt,
    Ticket,
    SignIn,
    RoomRecord,
}

impl Template {
    /// How many compilations typst's memoized results may go unused before they are
    /// dropped, counted after a document of this kind.
    pub(crate) fn cache_age(self) -> usize {
        match self {
            Template::Roster | Template::Receipt | Template::SignIn | Template::RoomRecord => 10,
            // A batch of tickets leaves every photo decoded in the cache (about 0.4 MB each),
            // and no later batch shows them again, while what it does reuse (fonts, labels,
            // rules, centres) was used by this batch too. Keeping ten batches' worth took
            // 1.5 GB for 10,000 tickets in PDFs of 200 and was slower than keeping one
            // (0.4 GB).
            Template::Ticket => 1,
        }
    }
}

/// What every compilation shares: fonts, the standard library and the parsed templates.
pub(crate) struct Shared {
    library: LazyHash<Library>,
    book: LazyHash<FontBook>,
    fonts: Vec<Font>,
    roster: Source,
    receipt: Source,
    ticket: Source,
    signin: Source,
    room_record: Source,
    data_id: FileId,
}

impl Shared {
    pub(crate) fn new() -> Result<Self, DocumentError> {
        let mut fonts = Vec::with_capacity(2);
        for (name, data) in [("Regular", FONT_REGULAR), ("Bold", FONT_BOLD)] {
            let font = Font::new(Bytes::new(data), 0)
                .ok_or_else(|| DocumentError::Render(format!("内置字体 Noto Sans CJK SC {name} 无法读取")))?;
            fonts.push(font);
        }
        let book = FontBook::from_fonts(&fonts);
        if !book.contains_family(&FONT_FAMILY.to_lowercase()) {
            return Err(DocumentError::Render(format!("内置字体中没有 {FONT_FAMILY}")));
        }
        Ok(Self {
            library: LazyHash::new(Library::default()),
            book: LazyHash::new(book),
            fonts,
            roster: Source::new(file_id("/roster.typ")?, include_str!("../templates/roster.typ").to_owned()),
            receipt: Source::new(file_id("/receipt.typ")?, include_str!("../templates/receipt.typ").to_owned()),
            ticket: Source::new(file_id("/ticket.typ")?, include_str!("../templates/ticket.typ").to_owned()),
            signin: Source::new(file_id("/signin.typ")?, include_str!("../templates/signin.typ").to_owned()),
            room_record: Source::new(file_id("/roomrecord.typ")?, include_str!("../templates/roomrecord.typ").to_owned()),
            data_id: file_id(DATA_PATH)?,
        })
    }
}

pub(crate) fn file_id(path: &str) -> Result<FileId, DocumentError> {
    let vpath = VirtualPath::new(path).map_err(|err| DocumentError::Render(format!("模板路径 {path} 无效：{err}")))?;
    Ok(RootedPath::new(VirtualRoot::Project, vpath).intern())
}

/// One compilation: a template plus the JSON for one document and its images.
pub(crate) struct DocWorld {
    shared: Arc<Shared>,
    main: Source,
    data: Bytes,
    files: HashMap<FileId, Bytes>,
}

impl DocWorld {
    pub(crate) fn new(shared: Arc<Shared>, template: Template, data: Vec<u8>) -> Self {
        let main = match template {
            Template::Roster => shared.roster.clone(),
            Template::Receipt => shared.receipt.clone(),
            Template::Ticket => shared.ticket.clone(),
            Template::SignIn => shared.signin.clone(),
            Template::RoomRecord => shared.room_record.clone(),
        };
        Self { shared, main, data: Bytes::new(data), files: HashMap::new() }
    }

    /// Adds files (images) the template may read, by the id of their virtual path.
    pub(crate) fn with_files(mut self, files: HashMap<FileId, Bytes>) -> Self {
        self.files = files;
        self
    }
}

impl World for DocWorld {
    fn library(&self) -> &LazyHash<Library> {
        &self.shared.library
    }

    fn book(&self) -> &LazyHash<FontBook> {
        &self.shared.book
    }

    fn main(&self) -> FileId {
        self.main.id()
    }

    fn source(&self, id: FileId) -> FileResult<Source> {
        if id == self.main.id() {
            Ok(self.main.clone())
        } else if id == self.shared.data_id {
            Err(FileError::NotSource)
        } else {
            Err(not_found(id))
        }
    }

    fn file(&self, id: FileId) -> FileResult<Bytes> {
        if id == self.shared.data_id {
            Ok(self.data.clone())
        } else if id == self.main.id() {
            Ok(Bytes::from_string(self.main.clone()))
        } else if let Some(bytes) = self.files.get(&id) {
            Ok(bytes.clone())
        } else {
            Err(not_found(id))
        }
    }

    fn font(&self, index: usize) -> Option<Font> {
        self.shared.fonts.get(index).cloned()
    }

    fn today(&self, _offset: Option<Duration>) -> Option<Datetime> {
        None
    }
}

fn not_found(id: FileId) -> FileError {
    FileError::NotFound(id.vpath().get_without_slash().into())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use typst::text::{FontStretch, FontStyle, FontVariant, FontWeight};

    use super::*;

    #[test]
    fn regular_and_bold_are_one_family_with_the_rare_characters() {
        let shared = Shared::new().unwrap();
        let family = FONT_FAMILY.to_lowercase();
        let variant = |weight| FontVariant::new(FontStyle::Normal, weight, FontStretch::NORMAL);
        assert_eq!(shared.book.select(&family, variant(FontWeight::REGULAR)), Some(0));
        assert_eq!(shared.book.select(&family, variant(FontWeight::BOLD)), Some(1));
        for font in &shared.fonts {
            for c in ['河', '南', '𠮷', '䶮', 'A', '1', '（', '＿', '¥'] {
                assert!(font.info().coverage.contains(u32::from(c)), "{c} missing");
            }
        }
    }

    #[test]
    fn serves_only_the_template_and_the_data() {
        let world = DocWorld::new(Arc::new(Shared::new().unwrap()), Template::Receipt, b"{}".to_vec());
        assert!(world.source(world.main()).is_ok());
        assert_eq!(world.file(world.shared.data_id).unwrap().as_slice(), b"{}");
        for path in ["/roster.typ", "/etc/passwd", "/data.json.bak"] {
            let id = file_id(path).unwrap();
            assert!(world.file(id).is_err(), "{path}");
            assert!(world.source(id).is_err(), "{path}");
        }
        assert!(world.today(None).is_none());
        assert!(world.font(2).is_none());
    }

    #[test]
    fn serves_the_images_handed_in_and_nothing_else() {
        let photo = file_id("/photo-0.png").unwrap();
        let world = DocWorld::new(Arc::new(Shared::new().unwrap()), Template::Ticket, b"{}".to_vec())
            .with_files(HashMap::from([(photo, Bytes::new(b"png".to_vec()))]));
        assert_eq!(world.file(photo).unwrap().as_slice(), b"png");
        assert!(world.source(photo).is_err());
        for path in ["/photo-1.png", "/photo-0.jpg", "/roster.typ", "/receipt.typ"] {
            assert!(world.file(file_id(path).unwrap()).is_err(), "{path}");
        }
    }
}
