//! Content-type sniffing from the first bytes of a file (magic numbers).
//!
//! The declared `Content-Type` of a download or an upload is chosen by whoever sends it and is
//! never trusted: the type recorded for a blob is the one found here. The table is kept to
//! the formats an insurer attaches to a claim (photos, scans, short videos); anything else is
//! "unrecognised" and therefore refused by the default policy.

/// How many leading bytes [`sniff`] looks at, at most. Writers keep this many bytes aside.
pub const SNIFF_LEN: usize = 256;

/// The MIME type recognised from the leading bytes `head` of a file, or `None`.
///
/// Recognises JPEG, PNG, GIF, WebP, PDF, TIFF and, through the ISO-BMFF `ftyp` box brand,
/// HEIC/HEIF, AVIF, MP4 (and M4V), 3GPP and QuickTime.
pub fn sniff(head: &[u8]) -> Option<&'static str> {
    const SIGNATURES: &[(&[u8], &str)] = &[
        (b"\xFF\xD8\xFF", "image/jpeg"),
        (b"\x89PNG\r\n\x1A\n", "image/png"),
        (b"GIF87a", "image/gif"),
        (b"GIF89a", "image/gif"),
        (b"%PDF-", "application/pdf"),
        (b"II*\0", "image/tiff"),
        (b"MM\0*", "image/tiff"),
    ];
    if let Some(&(_, mime)) = SIGNATURES.iter().find(|(magic, _)| head.starts_with(magic)) {
        return Some(mime);
    }
    if head.len() >= 12 && head.starts_with(b"RIFF") && &head[8..12] == b"WEBP" {
        return Some("image/webp");
    }
    sniff_iso_bmff(head)
}

/// Brand (major or compatible) of an ISO base media file `ftyp` box, to a MIME type.
fn brand_type(brand: &[u8]) -> Option<&'static str> {
    Some(match brand {
        b"heic" | b"heix" | b"heim" | b"heis" | b"hevc" | b"hevx" | b"mif1" | b"msf1" => {
            "image/heic"
        }
        b"avif" | b"avis" => "image/avif",
        b"qt  " => "video/quicktime",
        b"isom" | b"iso2" | b"iso3" | b"iso4" | b"iso5" | b"iso6" | b"mp41" | b"mp42" | b"avc1"
        | b"dash" | b"M4V " | b"M4VH" | b"M4VP" | b"mmp4" | b"MSNV" => "video/mp4",
        b"3gp4" | b"3gp5" | b"3gp6" | b"3gp7" | b"3ge6" | b"3ge7" | b"3gg6" => "video/3gpp",
        _ => return None,
    })
}

/// `[size: u32][b"ftyp"][major brand][minor version: u32][compatible brands...]`.
fn sniff_iso_bmff(head: &[u8]) -> Option<&'static str> {
    if head.len() < 12 || &head[4..8] != b"ftyp" {
        return None;
    }
    let declared = u32::from_be_bytes([head[0], head[1], head[2], head[3]]);
    let box_len = usize::try_from(declared).unwrap_or(usize::MAX);
    if box_len < 16 {
        return None;
    }
    if let Some(mime) = brand_type(&head[8..12]) {
        return Some(mime);
    }
    // The major brand is unknown (e.g. a vendor brand): look at the compatible brands, more
    // specific ones (HEIC, AVIF, QuickTime) first because MP4 files list `isom` loosely.
    let end = box_len.min(head.len());
    let compatible: Vec<&'static str> = head
        .get(16..end)
        .unwrap_or_default()
        .chunks_exact(4)
        .filter_map(brand_type)
        .collect();
    [
        "image/heic",
        "image/avif",
        "video/quicktime",
        "video/3gpp",
        "video/mp4",
    ]
    .into_iter()
    .find(|mime| compatible.contains(mime))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ftyp(major: &[u8], compatible: &[&[u8; 4]]) -> Vec<u8> {
        assert_eq!(major.len(), 4);
        let len = u32::try_from(16 + 4 * compatible.len()).unwrap();
        let mut out = len.to_be_bytes().to_vec();
        out.extend_from_slice(b"ftyp");
        out.extend_from_slice(major);
        out.extend_from_slice(&[0, 0, 0, 0]);
        for brand in compatible {
            out.extend_from_slice(*brand);
        }
        out.extend_from_slice(b"\0\0\0\x08free");
        out
    }

    #[test]
    fn magic_numbers() {
        let table: Vec<(Vec<u8>, Option<&str>)> = vec![
            (b"\xFF\xD8\xFF\xE0\0\x10JFIF\0".to_vec(), Some("image/jpeg")),
            (b"\x89PNG\r\n\x1A\n\0\0\0\rIHDR".to_vec(), Some("image/png")),
            (b"GIF89a\x01\0\x01\0".to_vec(), Some("image/gif")),
            (b"GIF87a\x01\0\x01\0".to_vec(), Some("image/gif")),
            (b"RIFF\x24\0\0\0WEBPVP8 ".to_vec(), Some("image/webp")),
            (b"RIFF\x24\0\0\0WAVEfmt ".to_vec(), None),
            (b"%PDF-1.7\n".to_vec(), Some("application/pdf")),
            (b"II*\0\x08\0\0\0".to_vec(), Some("image/tiff")),
            (b"MM\0*\0\0\0\x08".to_vec(), Some("image/tiff")),
            (ftyp(b"heic", &[b"mif1", b"heic"]), Some("image/heic")),
            (ftyp(b"mif1", &[b"heic"]), Some("image/heic")),
            (ftyp(b"avif", &[b"mif1"]), Some("image/avif")),
            (
                ftyp(b"isom", &[b"iso2", b"avc1", b"mp41"]),
                Some("video/mp4"),
            ),
            (ftyp(b"mp42", &[b"isom"]), Some("video/mp4")),
            (ftyp(b"qt  ", &[b"qt  "]), Some("video/quicktime")),
            (ftyp(b"XAVC", &[b"qt  ", b"isom"]), Some("video/quicktime")),
            (ftyp(b"XXXX", &[b"YYYY"]), None),
            (ftyp(b"M4A ", &[b"M4A "]), None),
            (b"<!DOCTYPE html><html>".to_vec(), None),
            (b"\xEF\xBB\xBF<svg xmlns=".to_vec(), None),
            (b"PK\x03\x04".to_vec(), None),
            (b"\xFF\xD8".to_vec(), None),
            (Vec::new(), None),
        ];
        for (head, expected) in table {
            assert_eq!(sniff(&head), expected, "{head:?}");
        }
    }

    #[test]
    fn truncated_or_lying_ftyp_box() {
        // Box length shorter than the header itself.
        assert_eq!(sniff(b"\0\0\0\x08ftypisom\0\0\0\0"), None);
        // Compatible brands cut off by the sniff window still work for the major brand.
        let mut long = ftyp(b"XXXX", &[b"YYYY"; 100]);
        long.truncate(SNIFF_LEN);
        assert_eq!(sniff(&long), None);
        let mut huge = ftyp(b"isom", &[]);
        huge[0..4].copy_from_slice(&u32::MAX.to_be_bytes());
        assert_eq!(sniff(&huge), Some("video/mp4"));
    }
}
