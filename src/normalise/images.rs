//! `normalise --images local`: once every record is written, each one's pictures are made
//! local, those a saved page holds taken from it.

use std::path::{Path, PathBuf};

use super::walk::{NormaliseOptions, Summary};
use crate::error::{Error, Result};
use crate::{store, tree};

/// Downloads the images of the records written and links them locally (`--images local`).
pub(super) fn local_images(
    files: &[(PathBuf, PathBuf)],
    opts: &NormaliseOptions,
    summary: &mut Summary,
    warn: &mut impl FnMut(&Error),
) -> Result<()> {
    let config = crate::fetch::FetchConfig::from_env()
        .map_err(|message| Error::Config { path: "WXSEC_ORIGIN".into(), message })?;
    let fetcher =
        crate::fetch::Fetcher::new(crate::fetch::FetchConfig { image_allow: opts.image_allow.clone(), ..config })?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|source| Error::Write { path: opts.root.clone(), source })?;
    let mut localiser = crate::assets::Localiser::new(&opts.root, fetcher, opts.image_delay);
    // The pictures a saved page holds come from it; the records of one web archive follow each
    // other, so the archive is read once for them all.
    let mut kept: Option<(PathBuf, crate::fetch::kept::Kept)> = None;
    for (file, source) in files {
        if !tree::is_text_record(source) && kept.as_ref().is_none_or(|(p, _)| p != source) {
            kept = Some((source.clone(), crate::fetch::kept::Kept::of_file(source).unwrap_or_default()));
        }
        let own = kept.as_ref().filter(|(p, _)| p == source).map(|(_, k)| k);
        let Ok(read) = std::fs::read_to_string(file) else { continue };
        // Records of other input folders than the archive's link there by their own path.
        let record = crate::assets::abs(file);
        let record = record.strip_prefix(crate::assets::abs(&opts.root)).map(Path::to_path_buf).unwrap_or(record);
        // Images the input linked by a path beside it (`./images/…`, as backups keep them).
        let (text, copied) = crate::assets::copy_saved_images(&read, store::folder_of(source), &opts.root, &record)?;
        summary.images += copied;
        let urls = crate::assets::image_urls(&text);
        let (map, failed) = if urls.is_empty() {
            Default::default()
        } else {
            let none = crate::fetch::kept::Kept::default();
            runtime.block_on(localiser.localise_kept(&urls, &record, own.unwrap_or(&none)))?
        };
        summary.images_failed += failed.len();
        for f in &failed {
            warn(&Error::Network {
                url: f.url.clone(),
                message: format!("{} (image kept its remote link in {})", f.error, file.display()),
                timeout: false,
            });
        }
        if !map.is_empty() || text != read {
            let name = Path::new(file.file_name().unwrap_or_default());
            store::write_atomic(store::folder_of(file), name, crate::assets::rewrite(&text, &map).as_bytes())?;
        }
    }
    summary.images += localiser.downloaded + localiser.from_archive;
    Ok(())
}
