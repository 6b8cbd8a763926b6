//! User-facing strings in English and Simplified Chinese.

use confab_core::error::{ApiError, KnownCause};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    #[default]
    En,
    Zh,
}

impl Lang {
    /// `en`, `zh`, `zh-CN`, `zh-Hans-CN`… Anything unknown is English.
    pub fn from_tag(tag: &str) -> Lang {
        if tag.to_ascii_lowercase().starts_with("zh") {
            Lang::Zh
        } else {
            Lang::En
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Zh => "zh",
        }
    }

    pub fn t(self) -> &'static Strings {
        match self {
            Lang::En => &EN,
            Lang::Zh => &ZH,
        }
    }
}

/// Every string the chat panel shows. Accessible names in the English set are part of the
/// test contract (buttons "Send", "Stop", "Copy", "Regenerate", "Edit"; textbox "Message").
pub struct Strings {
    pub message: &'static str,
    pub placeholder: &'static str,
    pub send: &'static str,
    pub stop: &'static str,
    pub copy: &'static str,
    pub copied: &'static str,
    pub regenerate: &'static str,
    pub edit: &'static str,
    pub save_and_send: &'static str,
    pub cancel: &'static str,
    pub retry: &'static str,
    pub continue_answer: &'static str,
    pub previous: &'static str,
    pub next: &'static str,
    pub jump_to_latest: &'static str,
    /// `{n}` is the number of messages not shown yet.
    pub show_earlier: &'static str,
    pub answering: &'static str,
    pub answer_complete: &'static str,
    pub stopped: &'static str,
    pub interrupted: &'static str,
    pub reasoning: &'static str,
    pub you: &'static str,
    pub assistant: &'static str,
    pub transcript: &'static str,
    pub new_chat: &'static str,
    pub tokens: &'static str,
    pub retry_in: &'static str,
    pub storage_unavailable: &'static str,
    pub welcome: &'static str,
    pub close: &'static str,
    pub attach_image: &'static str,
    pub preparing_image: &'static str,
    pub detail: &'static str,
    pub remove_image: &'static str,
    pub drop_here: &'static str,
    pub view_image: &'static str,
    pub copy_code: &'static str,
    pub load_image_from: &'static str,
    /// Shown for the `model_required` error (a proxy with no model to use).
    pub model_required: &'static str,
    /// Shown for `upstream_unauthorized` (the provider refused the chat server's key).
    pub server_key_refused: &'static str,
}

impl Strings {
    /// The sentence an error notice shows: the widget's own words for a cause it knows
    /// (by the server's `code`), otherwise the error's sentence with the server's message.
    pub fn error_text(&self, error: &ApiError) -> String {
        match error.known_cause() {
            Some(KnownCause::ModelRequired) => self.model_required.to_owned(),
            Some(KnownCause::ServerKeyRefused) => self.server_key_refused.to_owned(),
            None => error.to_string(),
        }
    }
}

pub static EN: Strings = Strings {
    message: "Message",
    placeholder: "Ask anything. Enter sends, Shift+Enter adds a line.",
    send: "Send",
    stop: "Stop",
    copy: "Copy",
    copied: "Copied",
    regenerate: "Regenerate",
    edit: "Edit",
    save_and_send: "Save and send",
    cancel: "Cancel",
    retry: "Retry",
    continue_answer: "Continue",
    previous: "Previous version",
    next: "Next version",
    jump_to_latest: "Jump to latest",
    show_earlier: "Show earlier messages ({n} more)",
    answering: "Answering…",
    answer_complete: "Answer complete",
    stopped: "Stopped",
    interrupted: "Interrupted by a reload",
    reasoning: "Reasoning",
    you: "You",
    assistant: "Assistant",
    transcript: "Conversation",
    new_chat: "New chat",
    tokens: "tokens",
    retry_in: "Retry possible in",
    storage_unavailable: "Saving is unavailable in this browser: this chat lives in memory only.",
    welcome: "Hi! Ask me anything.",
    close: "Close",
    attach_image: "Attach image",
    preparing_image: "Preparing image…",
    detail: "Detail",
    remove_image: "Remove image",
    drop_here: "Drop images here",
    view_image: "View image",
    copy_code: "Copy code",
    load_image_from: "Load image from",
    model_required:
        "No model was chosen: set data-model on the widget, or start confab-server with --model.",
    server_key_refused: "The AI provider refused this chat server's API key. The site's operator needs to fix the server's key; trying again will not help.",
};

pub static ZH: Strings = Strings {
    message: "消息",
    placeholder: "输入问题。回车发送，Shift+回车换行。",
    send: "发送",
    stop: "停止",
    copy: "复制",
    copied: "已复制",
    regenerate: "重新生成",
    edit: "编辑",
    save_and_send: "保存并发送",
    cancel: "取消",
    retry: "重试",
    continue_answer: "继续",
    previous: "上一版本",
    next: "下一版本",
    jump_to_latest: "跳到最新",
    show_earlier: "显示更早的消息（还有 {n} 条）",
    answering: "正在回答…",
    answer_complete: "回答完成",
    stopped: "已停止",
    interrupted: "因重新加载而中断",
    reasoning: "推理过程",
    you: "你",
    assistant: "助手",
    transcript: "对话",
    new_chat: "新对话",
    tokens: "词元",
    retry_in: "可重试倒计时",
    storage_unavailable: "此浏览器无法保存：本次对话仅保存在内存中。",
    welcome: "你好！有什么可以帮你？",
    close: "关闭",
    attach_image: "添加图片",
    preparing_image: "正在处理图片…",
    detail: "细节",
    remove_image: "移除图片",
    drop_here: "将图片拖放到这里",
    view_image: "查看图片",
    copy_code: "复制代码",
    load_image_from: "加载图片，来源",
    model_required: "未选择模型：请在组件上设置 data-model，或用 --model 启动 confab-server。",
    server_key_refused:
        "AI 服务商拒绝了此聊天服务器的 API 密钥。需要网站运营者修正服务器的密钥，重试也无济于事。",
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chinese_tags_pick_chinese_and_everything_else_english() {
        assert_eq!(Lang::from_tag("zh-CN"), Lang::Zh);
        assert_eq!(Lang::from_tag("ZH-Hans"), Lang::Zh);
        assert_eq!(Lang::from_tag("en-GB"), Lang::En);
        assert_eq!(Lang::from_tag("fr"), Lang::En);
        assert_eq!(Lang::Zh.t().send, "发送");
    }

    const MODEL_REQUIRED_BODY: &str = r#"{"error":{"message":"No model was chosen: set data-model on the widget, or start confab-server with --model.","type":"invalid_request_error","param":"model","code":"model_required"}}"#;

    #[test]
    fn model_required_is_explained_in_the_ui_language() {
        let e = confab_core::error::parse_error_body(400, MODEL_REQUIRED_BODY, None);
        assert_eq!(
            Lang::En.t().error_text(&e),
            "No model was chosen: set data-model on the widget, or start confab-server with --model."
        );
        assert_eq!(
            Lang::Zh.t().error_text(&e),
            "未选择模型：请在组件上设置 data-model，或用 --model 启动 confab-server。"
        );
    }

    #[test]
    fn a_refused_server_key_is_explained_and_not_retried() {
        // What confab-server answers when the provider refuses its key (upstream 401).
        let body = r#"{"error":{"message":"the upstream refused this server's API key (HTTP 401): the server's key needs fixing","type":"upstream_error","param":null,"code":"upstream_unauthorized"}}"#;
        let e = confab_core::error::parse_error_body(502, body, None);
        assert!(!e.is_retryable());
        assert_eq!(
            Lang::En.t().error_text(&e),
            "The AI provider refused this chat server's API key. The site's operator needs to fix the server's key; trying again will not help."
        );
        assert_eq!(
            Lang::Zh.t().error_text(&e),
            "AI 服务商拒绝了此聊天服务器的 API 密钥。需要网站运营者修正服务器的密钥，重试也无济于事。"
        );
    }

    #[test]
    fn other_errors_show_their_sentence_with_the_servers_message() {
        let e = confab_core::error::parse_error_body(
            422,
            r#"{"error":{"message":"model: field required","type":"invalid_request_error"}}"#,
            None,
        );
        let shown = "The server rejected the request (HTTP 422): model: field required.";
        assert_eq!(Lang::En.t().error_text(&e), shown);
        assert_eq!(Lang::Zh.t().error_text(&e), shown);
        let e = confab_core::error::parse_error_body(503, "", None);
        assert_eq!(
            Lang::En.t().error_text(&e),
            "The server had a problem answering (HTTP 503)."
        );
    }
}
