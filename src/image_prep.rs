//! Preparing an attached image in the browser: check it by content, decode it with
//! `createImageBitmap` (EXIF orientation applied, off the main thread), scale it and
//! re-encode it on an OffscreenCanvas. Re-encoding also drops metadata such as GPS.

use confab_core::image_check::{
    check_file, is_animated_gif, jpeg_orientation, plan, png_may_have_alpha, ImageFormat, Output,
    Rejection, JPEG_QUALITY,
};
use js_sys::{Promise, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{Blob, File, ImageBitmap};

/// Bytes read to identify a file and find its EXIF block.
const HEAD_BYTES: f64 = 256.0 * 1024.0;

/// An image ready to send.
#[derive(Clone)]
pub struct Prepared {
    pub blob: Blob,
    pub data_url: String,
    pub mime: String,
    pub width: u32,
    pub height: u32,
    pub bytes: u64,
    pub name: String,
    /// Something the user should know (only the first frame of an animation is sent).
    pub note: Option<String>,
}

async fn bytes_of(blob: &Blob) -> Result<Vec<u8>, JsValue> {
    let buffer = JsFuture::from(blob.array_buffer()).await?;
    Ok(Uint8Array::new(&buffer).to_vec())
}

/// Reads a Blob as a `data:` URL.
pub async fn data_url(blob: &Blob) -> Result<String, JsValue> {
    let reader = web_sys::FileReader::new()?;
    let done = Promise::new(&mut |resolve, reject| {
        reader.set_onload(Some(&resolve));
        reader.set_onerror(Some(&reject));
    });
    reader.read_as_data_url(blob)?;
    JsFuture::from(done).await?;
    reader
        .result()?
        .as_string()
        .ok_or_else(|| JsValue::from_str("FileReader gave no text"))
}

/// Decodes with EXIF orientation applied, scaled by the browser when `size` is given.
async fn decode(file: &File, size: Option<(u32, u32)>) -> Result<ImageBitmap, JsValue> {
    let window = web_sys::window().ok_or("no window")?;
    let options = web_sys::ImageBitmapOptions::new();
    options.set_image_orientation(web_sys::ImageOrientation::FromImage);
    if let Some((w, h)) = size {
        options.set_resize_width(w);
        options.set_resize_height(h);
        options.set_resize_quality(web_sys::ResizeQuality::High);
    }
    let promise = window.create_image_bitmap_with_blob_and_image_bitmap_options(file, &options)?;
    Ok(JsFuture::from(promise).await?.unchecked_into())
}

/// Scales (in the browser's decoder, off the main thread) and re-encodes.
async fn encode(file: &File, width: u32, height: u32, mime: &str) -> Result<Blob, JsValue> {
    let bitmap = decode(file, Some((width, height))).await?;
    let canvas = web_sys::OffscreenCanvas::new(width, height)?;
    let ctx: web_sys::OffscreenCanvasRenderingContext2d = canvas
        .get_context("2d")?
        .ok_or("no 2d context")?
        .unchecked_into();
    if mime == "image/jpeg" {
        // JPEG has no transparency: put transparent pixels on white rather than black.
        ctx.set_fill_style_str("#ffffff");
        ctx.fill_rect(0.0, 0.0, width as f64, height as f64);
    }
    ctx.draw_image_with_image_bitmap_and_dw_and_dh(&bitmap, 0.0, 0.0, width as f64, height as f64)?;
    bitmap.close();
    let options = web_sys::ImageEncodeOptions::new();
    options.set_type(mime);
    options.set_quality(JPEG_QUALITY);
    Ok(
        JsFuture::from(canvas.convert_to_blob_with_options(&options)?)
            .await?
            .unchecked_into(),
    )
}

/// Checks and prepares one file. `max_long_side` is 2048, or 512 for low detail.
pub async fn prepare(
    file: &File,
    already_attached: usize,
    max_images: usize,
    max_long_side: u32,
) -> Result<Prepared, String> {
    let name = file.name();
    let size = file.size() as u64;
    let corrupt = || Rejection::Corrupt { name: name.clone() }.to_string();
    let head_blob = file
        .slice_with_f64_and_f64(0.0, HEAD_BYTES)
        .map_err(|_| corrupt())?;
    let head = bytes_of(&head_blob).await.map_err(|_| corrupt())?;
    let format =
        check_file(&name, size, &head, already_attached, max_images).map_err(|r| r.to_string())?;

    let mut note = None;
    if format == ImageFormat::Gif {
        let all = bytes_of(file).await.map_err(|_| corrupt())?;
        if is_animated_gif(&all) {
            note = Some(format!("{name} is animated: only its first frame is sent."));
        }
    }
    let bitmap = decode(file, None).await.map_err(|_| corrupt())?;
    let (width, height) = (bitmap.width(), bitmap.height());
    if width == 0 || height == 0 {
        return Err(format!("{name} has no pixels."));
    }
    bitmap.close();
    let rotated = jpeg_orientation(&head).is_some_and(|o| o != 1);
    let alpha = format == ImageFormat::Png && png_may_have_alpha(&head);
    let output = plan(format, width, height, size, alpha, rotated, max_long_side);
    let (blob, mime, out_w, out_h) = match output {
        Output::Original => (
            file.clone().unchecked_into::<Blob>(),
            format.mime().to_string(),
            width,
            height,
        ),
        Output::Jpeg { width, height } => (
            encode(file, width, height, "image/jpeg")
                .await
                .map_err(|_| corrupt())?,
            "image/jpeg".into(),
            width,
            height,
        ),
        Output::Png { width, height } => (
            encode(file, width, height, "image/png")
                .await
                .map_err(|_| corrupt())?,
            "image/png".into(),
            width,
            height,
        ),
    };
    let data_url = data_url(&blob).await.map_err(|_| corrupt())?;
    Ok(Prepared {
        bytes: blob.size() as u64,
        blob,
        data_url,
        mime,
        width: out_w,
        height: out_h,
        name,
        note,
    })
}
