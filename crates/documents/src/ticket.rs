//! The admission ticket (准考证): its data, the default exam rules and the QR code.

use qrcode::{Color, EcLevel, QrCode};
use serde::{Deserialize, Serialize};

use crate::DocumentError;

/// 考生须知 printed when the campaign has no rules of its own; the template numbers them.
///
/// Drawn from the usual rules of the province's 工勤技能岗位 examinations. Violations are
/// handled by analogy with 人社部令第31号 because no regulation of its own covers this
/// examination.
pub const DEFAULT_RULES: &[&str] = &[
    "考生须凭本准考证和本人有效居民身份证原件（二者缺一不可）参加考试，按准考证上的时间、考点和考场应考。",
    "考生应于每科开考前30分钟到达考场，接受身份核验后按座位号入座，将准考证和身份证放在桌面右上角以备查验。",
    "开考30分钟后不得进入考场；开考后30分钟内不得交卷离场。",
    "除黑色签字笔、2B铅笔和橡皮外，不得携带手机、智能手表、耳机等任何通讯工具和电子设备以及书籍、资料进入考场；已带入的须关机后放在监考人员指定的位置。",
    "考生应遵守考场纪律，服从监考人员的管理和指挥，保持考场安静；不得交头接耳、抄袭他人答案或者协助他人作弊，不得将试卷、答题卡和草稿纸带出考场。",
    "考试结束信号发出后立即停止答题，待监考人员收齐并清点试卷、答题卡后方可离开考场。",
    "违纪违规的考生，参照《专业技术人员资格考试违纪违规行为处理规定》（人力资源社会保障部令第31号）等有关规定处理；涉嫌犯罪的，移送司法机关依法追究刑事责任。",
    "请妥善保管本准考证，查询成绩和领取证书时需要使用。",
];

/// [`DEFAULT_RULES`] as owned strings, for [`TicketDoc::rules`].
pub fn default_rules() -> Vec<String> {
    DEFAULT_RULES.iter().map(|rule| (*rule).to_owned()).collect()
}

/// An admission ticket (准考证) for one candidate, rendered by
/// [`Documents::admission_ticket`](crate::Documents::admission_ticket). Every text is
/// printed as given (nothing is read as markup); none is checked or reformatted here.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TicketDoc {
    /// e.g. "2020年度河南省机关事业单位工勤技能岗位等级考核".
    pub campaign_title: String,
    /// The issuing exam office (工考管理机构), printed in the footer.
    pub agency_name: String,
    pub name: String,
    /// 性别, e.g. "男".
    pub sex: String,
    /// Already masked by the caller, e.g. "410105********1234": the ticket is handed
    /// around and printed by the candidate, so it never carries the full number.
    pub id_number_masked: String,
    pub unit_name: String,
    pub work_type: String,
    /// e.g. "三级（高级工）".
    pub level: String,
    /// The 17-digit 准考证号.
    pub ticket_number: String,
    /// The 一寸 photo (295×413 px) as JPEG or PNG bytes; `None` prints an empty box
    /// labelled 照片. Not serialized: the bytes reach typst as a file, not as JSON.
    #[serde(skip)]
    pub photo: Option<Vec<u8>>,
    /// One row per subject sat, in the order printed.
    pub subjects: Vec<TicketSubject>,
    /// 考生须知 without their numbers (the template numbers them); usually
    /// [`default_rules()`]. Empty leaves the section out.
    pub rules: Vec<String>,
    /// An undertaking printed under the rules with a signature line, e.g.
    /// "本人已阅读并知悉考生须知，承诺遵守考试纪律。".
    pub pledge: Option<String>,
    /// Encoded as it is in the QR code (medium error correction); opaque here, the
    /// caller signs it. At most about 2,300 bytes.
    pub qr_payload: String,
    /// Print time as shown, e.g. "2020-07-10 09:30" (Beijing time); no clock is read.
    pub printed_at: String,
}

/// One subject (科目) on a ticket: when and where it is sat.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TicketSubject {
    /// 岗位技能, 职业道德 or 职业能力.
    pub subject: String,
    /// e.g. "2020年7月18日".
    pub date: String,
    /// e.g. "09:00—10:30".
    pub time: String,
    pub centre_name: String,
    pub centre_address: String,
    /// e.g. "第012考场".
    pub room: String,
    /// e.g. "27".
    pub seat: String,
}

/// A QR code as an 8-bit grey bitmap, one pixel per module, black on white, with the
/// four-module quiet zone the standard asks for around it (so the code scans whatever
/// is printed next to it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QrBitmap {
    /// Width and height in pixels (modules), quiet zone included.
    pub side: usize,
    /// `side × side` pixels, row by row, top to bottom: 0 for dark, 255 for light.
    pub pixels: Vec<u8>,
}

/// Modules of light margin on each side (ISO/IEC 18004 asks for four).
const QUIET_ZONE: usize = 4;

/// The QR code printed on a ticket for `payload`, with medium error correction
/// (about 15 % of the code may be smudged or folded). Exactly what the ticket shows, so
/// a test can decode it.
pub fn ticket_qr(payload: &str) -> Result<QrBitmap, DocumentError> {
    let code = QrCode::with_error_correction_level(payload.as_bytes(), EcLevel::M)
        .map_err(|err| DocumentError::Render(format!("二维码内容（{} 字节）无法编码：{err}", payload.len())))?;
    let modules = code.width();
    let side = modules + 2 * QUIET_ZONE;
    let mut pixels = vec![u8::MAX; side * side];
    for (index, color) in code.into_colors().into_iter().enumerate() {
        if color == Color::Dark {
            let (y, x) = (index / modules, index % modules);
            pixels[(y + QUIET_ZONE) * side + x + QUIET_ZONE] = 0;
        }
    }
    Ok(QrBitmap { side, pixels })
}

/// The file extension typst needs to read a photo, from its leading bytes; `None` for
/// anything but JPEG and PNG (typst would accept GIF or SVG too, which the photo rules
/// do not).
pub(crate) fn photo_extension(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some("jpg")
    } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("png")
    } else {
        None
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn qr_has_a_quiet_zone_and_finder_patterns() {
        let qr = ticket_qr("GK1:20204101000301227").unwrap();
        assert_eq!(qr.pixels.len(), qr.side * qr.side);
        // Version 1 or 2 for this payload: 21 or 25 modules plus the margins.
        assert!(qr.side == 29 || qr.side == 33, "{}", qr.side);
        let at = |x: usize, y: usize| qr.pixels[y * qr.side + x];
        for i in 0..qr.side {
            for m in 0..QUIET_ZONE {
                assert_eq!(at(i, m), 255);
                assert_eq!(at(m, i), 255);
                assert_eq!(at(i, qr.side - 1 - m), 255);
                assert_eq!(at(qr.side - 1 - m, i), 255);
            }
        }
        // The top-left finder pattern starts with a dark corner.
        assert_eq!(at(QUIET_ZONE, QUIET_ZONE), 0);
    }

    #[test]
    fn qr_refuses_a_payload_too_long_for_any_version() {
        let err = ticket_qr(&"x".repeat(3000)).unwrap_err();
        assert!(err.to_string().contains("3000 字节"), "{err}");
    }

    #[test]
    fn photo_kinds_are_sniffed() {
        assert_eq!(photo_extension(&[0xFF, 0xD8, 0xFF, 0xE0]), Some("jpg"));
        assert_eq!(photo_extension(b"\x89PNG\r\n\x1a\n...."), Some("png"));
        assert_eq!(photo_extension(b"GIF89a"), None);
        assert_eq!(photo_extension(b"<svg"), None);
        assert_eq!(photo_extension(b""), None);
    }
}
