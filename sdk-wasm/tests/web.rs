//! DOM capture in a real browser (wasm-bindgen-test, headless Chromium).
#![cfg(target_arch = "wasm32")]

use sightline_sdk::core::selector;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen_test]
fn selector_from_a_real_dom_path() {
    let document = web_sys::window()
        .and_then(|w| w.document())
        .expect("a document in the test page");
    let body = document.body().expect("body");
    let holder = document.create_element("div").expect("div");
    holder.set_inner_html(
        r#"<main id="m"><div class="results list"><a class="card">x</a></div></main>"#,
    );
    body.append_child(&holder).expect("append");
    let link = document
        .query_selector("#m a")
        .expect("query")
        .expect("link");
    let mut owned = Vec::new();
    let mut current = Some(link);
    while let Some(element) = current {
        owned.push((
            element.tag_name().to_lowercase(),
            element.id(),
            element.get_attribute("class").unwrap_or_default(),
        ));
        current = element.parent_element();
    }
    let nodes: Vec<selector::Node> = owned
        .iter()
        .map(|(tag, id, class)| selector::Node { tag, id, class })
        .collect();
    assert_eq!(selector::build(&nodes), "main#m>div.results.list>a.card");
    let _ = holder.dyn_into::<web_sys::HtmlElement>();
}

#[wasm_bindgen_test]
fn size_class_allocator_reuses_blocks_without_overlap() {
    use core::alloc::{GlobalAlloc, Layout};
    use sightline_sdk::allocator::SizeClassAllocator;

    let heap = SizeClassAllocator::new();
    let sizes = [1usize, 15, 16, 17, 100, 1000, 4096, 70_000, 200_000];
    let mut blocks = Vec::new();
    for (index, size) in sizes.iter().enumerate() {
        let layout = Layout::from_size_align(*size, 8).expect("layout");
        // SAFETY: layout is non-zero; the block is written within its size only.
        let block = unsafe { heap.alloc(layout) };
        assert!(!block.is_null());
        assert_eq!(block as usize % 8, 0, "aligned");
        unsafe { core::ptr::write_bytes(block, index as u8 + 1, *size) };
        blocks.push((block, layout, index as u8 + 1));
    }
    // No block overwrote another.
    for (block, layout, fill) in &blocks {
        let bytes = unsafe { core::slice::from_raw_parts(*block, layout.size()) };
        assert!(bytes.iter().all(|b| b == fill));
    }
    // A freed block is handed out again for the same size class.
    let (first, layout, _) = blocks[4];
    unsafe { heap.dealloc(first, layout) };
    let again = unsafe { heap.alloc(Layout::from_size_align(90, 8).expect("layout")) };
    assert_eq!(again, first);
    // Over-aligned requests are honoured.
    let aligned = unsafe { heap.alloc(Layout::from_size_align(24, 64).expect("layout")) };
    assert_eq!(aligned as usize % 64, 0);
}
