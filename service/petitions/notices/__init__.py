"""Written notices of the petition regulation (告知书、意见书): issued with the workflow action that needs them,
numbered per university and year, stored immutably, rendered as PDF and DOCX in zh-CN and en from templates
each university may edit."""
