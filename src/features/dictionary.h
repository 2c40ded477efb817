/* dictionary.h - the features of the wide table, as one X-macro list.
 *
 * X(name, family, unit, zh, formula) for numeric features and
 * XC(name, family, zh, formula) for categorical codes.  The list generates
 * both the enum of column indices used by the builder and the data
 * dictionary, so the two cannot drift apart.  Window = the W months ending
 * at M; "avg" = mean over the months of the window the subscriber was
 * present in; "last" = month M.
 */
#ifndef CVM_FEATURES_DICTIONARY_H
#define CVM_FEATURES_DICTIONARY_H

/* The 22 usage columns averaged over the window: (column, unit, zh). */
#define CVM_USAGE_COLS(U)                                      \
    U(voice_local_min, "minutes", "本地通话分钟")              \
    U(voice_ld_intra_min, "minutes", "省内长途分钟")           \
    U(voice_ld_inter_min, "minutes", "省际长途分钟")           \
    U(voice_ld_intl_min, "minutes", "国际长途分钟")            \
    U(voice_roam_intra_min, "minutes", "省内漫游分钟")         \
    U(voice_roam_inter_min, "minutes", "省际漫游分钟")         \
    U(voice_offpeak_min, "minutes", "闲时通话分钟")            \
    U(voice_onnet_min, "minutes", "网内通话分钟")              \
    U(voice_offnet_min, "minutes", "网外通话分钟")             \
    U(voice_competitor_min, "minutes", "异网通话分钟")         \
    U(voice_in_min, "minutes", "被叫分钟")                     \
    U(calls_out, "calls", "主叫次数")                          \
    U(calls_in, "calls", "被叫次数")                           \
    U(contacts, "numbers", "交往圈人数")                       \
    U(competitor_contacts, "numbers", "异网联系人数")          \
    U(competitor_operators, "operators", "联系的其他运营商数") \
    U(sms_out, "messages", "短信条数")                         \
    U(mms_out, "messages", "彩信条数")                         \
    U(data_mb, "MB", "上网流量")                               \
    U(vpn_min, "minutes", "虚拟网通话分钟")                    \
    U(cells, "cells", "访问小区数")                            \
    U(active_days, "days", "活跃天数")

/* Monthly series whose trend and variability are features:
 * (series, unit, zh). */
#define CVM_SERIES(S)                       \
    S(voice_out, "minutes", "主叫通话分钟") \
    S(data, "MB", "流量")                   \
    S(sms, "messages", "短信")              \
    S(calls, "calls", "主叫次数")           \
    S(contacts, "numbers", "交往圈人数")    \
    S(active_days, "days", "活跃天数")      \
    S(bill, "yuan", "账单金额")             \
    S(cells, "cells", "访问小区数")

/* VAS types of products.vas_type: (type, zh). */
#define CVM_VAS_TYPES(V)      \
    V(ringback, "彩铃")       \
    V(music, "音乐")          \
    V(news, "手机报")         \
    V(securities, "手机证券") \
    V(mailbox, "邮箱")

#define CVM_FEATURES(X, XC)                                                    \
    /* ---- tenure and lifecycle ---- */                                       \
    X(tenure_months,                                                           \
      "tenure",                                                                \
      "months",                                                                \
      "在网时长",                                                              \
      "Whole months from join_date to the last day of M")                      \
    X(new_in_window,                                                           \
      "tenure",                                                                \
      "flag",                                                                  \
      "窗口内入网",                                                            \
      "1 if join_date falls inside the window")                                \
    XC(age_band,                                                               \
       "tenure",                                                               \
       "年龄段",                                                               \
       "Code of subscribers.age_band: 0=18-24 .. 5=65+, 6=unknown")            \
    X(gender_female, "tenure", "flag", "女性", "1 if gender is F")             \
    X(postpaid, "tenure", "flag", "后付费", "1 if payment_type is postpaid")   \
    X(vip_level,                                                               \
      "tenure",                                                                \
      "level",                                                                 \
      "VIP等级",                                                               \
      "0 none, 1 silver, 2 gold, 3 diamond")                                   \
    X(group_member, "tenure", "flag", "集团成员", "subscribers.group_member")  \
    X(device_gen,                                                              \
      "tenure",                                                                \
      "generation",                                                            \
      "终端制式",                                                              \
      "2, 3, 4 or 5 for 2G..5G; empty if unknown")                             \
    X(device_age_months,                                                       \
      "tenure",                                                                \
      "months",                                                                \
      "终端使用月数",                                                          \
      "Months from device_date to the last day of M")                          \
    XC(acq_channel,                                                            \
       "tenure",                                                               \
       "入网渠道",                                                             \
       "Code of acq_channel: 0 shop, 1 agent, 2 online, 3 telemarketing, "     \
       "4 corporate, 5 other")                                                 \
    X(has_plan, "tenure", "flag", "有套餐", "1 if a plan was billed in M")     \
    X(plan_fee,                                                                \
      "tenure",                                                                \
      "yuan",                                                                  \
      "套餐月费",                                                              \
      "monthly_fee of the plan billed in M (0 without plan)")                  \
    X(plan_changes,                                                            \
      "tenure",                                                                \
      "count",                                                                 \
      "套餐变更次数",                                                          \
      "Changes of the billed plan between consecutive months of the window")   \
    X(contract_months_left,                                                    \
      "tenure",                                                                \
      "months",                                                                \
      "合约剩余月数",                                                          \
      "Months from the end of M to contract_end (negative: expired); empty "   \
      "without contract")                                                      \
    X(bundle_months_left,                                                      \
      "tenure",                                                                \
      "months",                                                                \
      "优惠包剩余月数",                                                        \
      "Months from the end of M to bundle_end; empty without bundle")          \
    X(contract_expiring_3m,                                                    \
      "tenure",                                                                \
      "flag",                                                                  \
      "合约3月内到期",                                                         \
      "1 if the contract ends within 3 months after M")                        \
    X(bundle_expiring_3m,                                                      \
      "tenure",                                                                \
      "flag",                                                                  \
      "优惠包3月内到期",                                                       \
      "1 if the bundle ends within 3 months after M (转兑包到期)")             \
    X(no_contract, "tenure", "flag", "无合约", "1 if no contract_end")         \
    /* ---- usage levels ---- */                                               \
    CVM_USAGE_COLS(CVM__X_AVG)                                                 \
    X(last_voice_out_min,                                                      \
      "usage",                                                                 \
      "minutes",                                                               \
      "当月主叫分钟",                                                          \
      "Outgoing minutes in M: local + long distance (intra, inter, intl)")     \
    X(last_data_mb, "usage", "MB", "当月流量", "data_mb in M")                 \
    X(last_sms_out, "usage", "messages", "当月短信", "sms_out in M")           \
    X(last_active_days, "usage", "days", "当月活跃天数", "active_days in M")   \
    X(months_with_usage,                                                       \
      "usage",                                                                 \
      "months",                                                                \
      "有使用月数",                                                            \
      "Months of the window with a usage row")                                 \
    X(months_no_consumption,                                                   \
      "usage",                                                                 \
      "months",                                                                \
      "零消费月数",                                                            \
      "Months of the window with no voice, no SMS and no data (无消费)")       \
    /* ---- usage mix ---- */                                                  \
    X(onnet_share,                                                             \
      "mix",                                                                   \
      "share",                                                                 \
      "网内通话占比",                                                          \
      "voice_onnet_min / (onnet + offnet minutes), window totals; outgoing "   \
      "minutes below = local + long distance (intra, inter, intl)")            \
    X(offpeak_share,                                                           \
      "mix",                                                                   \
      "share",                                                                 \
      "闲时通话占比",                                                          \
      "voice_offpeak_min / outgoing minutes")                                  \
    X(roaming_share,                                                           \
      "mix",                                                                   \
      "share",                                                                 \
      "漫游通话占比",                                                          \
      "roaming minutes (intra + inter) / outgoing minutes")                    \
    X(ld_share,                                                                \
      "mix",                                                                   \
      "share",                                                                 \
      "长途通话占比",                                                          \
      "long-distance minutes (intra + inter + intl) / outgoing minutes")       \
    X(competitor_min_share,                                                    \
      "mix",                                                                   \
      "share",                                                                 \
      "异网通话占比",                                                          \
      "voice_competitor_min / outgoing minutes")                               \
    X(competitor_contact_share,                                                \
      "mix",                                                                   \
      "share",                                                                 \
      "异网联系人占比",                                                        \
      "competitor_contacts / contacts, window totals")                         \
    X(competitor_share_slope,                                                  \
      "mix",                                                                   \
      "share/month",                                                           \
      "异网占比趋势",                                                          \
      "Least-squares slope of the monthly competitor_min_share")               \
    X(in_out_ratio, "mix", "ratio", "被叫主叫比", "voice_in_min / outgoing")   \
    X(data_per_active_day,                                                     \
      "mix",                                                                   \
      "MB/day",                                                                \
      "日均流量",                                                              \
      "data_mb / active_days, window totals")                                  \
    X(avg_call_minutes,                                                        \
      "mix",                                                                   \
      "minutes",                                                               \
      "平均通话时长",                                                          \
      "outgoing minutes / calls_out")                                          \
    /* ---- trends and variability ---- */                                     \
    CVM_SERIES(CVM__X_TREND)                                                   \
    CVM_SERIES(CVM__X_CV)                                                      \
    /* ---- value-added services ---- */                                       \
    CVM_VAS_TYPES(CVM__X_VAS)                                                  \
    X(vas_products_active,                                                     \
      "vas",                                                                   \
      "products",                                                              \
      "在订增值业务数",                                                        \
      "VAS subscriptions active at the end of M")                              \
    X(vas_new_in_window,                                                       \
      "vas",                                                                   \
      "count",                                                                 \
      "窗口内新订",                                                            \
      "VAS subscriptions started in the window")                               \
    X(vas_cancelled_in_window,                                                 \
      "vas",                                                                   \
      "count",                                                                 \
      "窗口内退订",                                                            \
      "VAS subscriptions ended in the window")                                 \
    X(avg_vas_usage_fee,                                                       \
      "vas",                                                                   \
      "yuan",                                                                  \
      "增值业务月均费用",                                                      \
      "vas_usage.fee summed per month, averaged")                              \
    /* ---- bill ---- */                                                       \
    X(avg_plan_fee_billed, "bill", "yuan", "月均套餐费", "bills.plan_fee")     \
    X(avg_voice_fee, "bill", "yuan", "月均语音费", "bills.voice_fee")          \
    X(avg_ld_fee, "bill", "yuan", "月均长途费", "bills.ld_fee")                \
    X(avg_roaming_fee, "bill", "yuan", "月均漫游费", "bills.roaming_fee")      \
    X(avg_sms_fee, "bill", "yuan", "月均短彩信费", "bills.sms_fee")            \
    X(avg_data_fee, "bill", "yuan", "月均流量费", "bills.data_fee")            \
    X(avg_vas_fee, "bill", "yuan", "月均增值业务费", "bills.vas_fee")          \
    X(avg_other_fee, "bill", "yuan", "月均其他费用", "bills.other_fee")        \
    X(avg_discount, "bill", "yuan", "月均优惠", "bills.discount")              \
    X(arpu, "bill", "yuan", "月均账单(ARPU)", "bills.total averaged")          \
    X(arpu_last, "bill", "yuan", "当月账单", "bills.total in M")               \
    X(overage_share,                                                           \
      "bill",                                                                  \
      "share",                                                                 \
      "超套费用占比",                                                          \
      "(voice + sms + data fees) / total, window totals")                      \
    X(discount_share,                                                          \
      "bill",                                                                  \
      "share",                                                                 \
      "优惠占比",                                                              \
      "discount / (total + discount)")                                         \
    X(avg_points_earned,                                                       \
      "bill",                                                                  \
      "points",                                                                \
      "月均积分获得",                                                          \
      "bills.points_earned")                                                   \
    X(avg_points_redeemed,                                                     \
      "bill",                                                                  \
      "points",                                                                \
      "月均积分兑换",                                                          \
      "bills.points_redeemed")                                                 \
    X(points_balance, "bill", "points", "积分余额", "points_balance in M")     \
    /* ---- payments ---- */                                                   \
    X(payments_count,                                                          \
      "payment",                                                               \
      "count",                                                                 \
      "缴费次数",                                                              \
      "Payments in the window")                                                \
    X(avg_payment_amount,                                                      \
      "payment",                                                               \
      "yuan",                                                                  \
      "平均缴费金额",                                                          \
      "Mean payment amount")                                                   \
    X(max_payment_amount,                                                      \
      "payment",                                                               \
      "yuan",                                                                  \
      "最大缴费金额",                                                          \
      "Largest payment")                                                       \
    X(topups_count, "payment", "count", "充值次数", "Payments of kind topup")  \
    X(on_time_share,                                                           \
      "payment",                                                               \
      "share",                                                                 \
      "按时缴费比例",                                                          \
      "Bills paid on time / bills with on_time known and due by the end "      \
      "of M (a bill due after M is not yet known)")                            \
    X(late_months, "payment", "months", "逾期月数", "Months with on_time = 0") \
    X(months_multi_small_payments,                                             \
      "payment",                                                               \
      "months",                                                                \
      "多次小额缴费月数",                                                      \
      "Months with 2 or more payments each below the window ARPU")             \
    X(small_payment_share,                                                     \
      "payment",                                                               \
      "share",                                                                 \
      "小额缴费占比",                                                          \
      "Payments below the window ARPU / payments")                             \
    X(paid_to_billed,                                                          \
      "payment",                                                               \
      "ratio",                                                                 \
      "缴费账单比",                                                            \
      "Sum of payments / sum of bill totals")                                  \
    X(days_since_payment,                                                      \
      "payment",                                                               \
      "days",                                                                  \
      "距上次缴费天数",                                                        \
      "Days from the last payment to the last day of M; empty if none")        \
    X(payment_channels,                                                        \
      "payment",                                                               \
      "channels",                                                              \
      "缴费渠道数",                                                            \
      "Distinct payment channels used")                                        \
    X(payments_per_month,                                                      \
      "payment",                                                               \
      "count",                                                                 \
      "月均缴费次数",                                                          \
      "payments_count / months present")                                       \
    /* ---- balance and arrears ---- */                                        \
    X(arrears_last, "balance", "yuan", "当月欠费", "bills.arrears in M")       \
    X(arrears_max, "balance", "yuan", "最大欠费", "Largest monthly arrears")   \
    X(months_in_arrears,                                                       \
      "balance",                                                               \
      "months",                                                                \
      "欠费月数",                                                              \
      "Months with arrears > 0")                                               \
    X(balance_last, "balance", "yuan", "当月余额", "bills.balance in M")       \
    X(balance_min, "balance", "yuan", "最低余额", "Lowest monthly balance")    \
    X(balance_slope,                                                           \
      "balance",                                                               \
      "yuan/month",                                                            \
      "余额趋势",                                                              \
      "Least-squares slope of the monthly balance")                            \
    X(low_balance,                                                             \
      "balance",                                                               \
      "flag",                                                                  \
      "余额不足",                                                              \
      "1 if prepaid and the balance in M is below 10 yuan")                    \
    /* ---- suspension ---- */                                                 \
    X(susp_days,                                                               \
      "suspension",                                                            \
      "days",                                                                  \
      "停机天数",                                                              \
      "Days suspended inside the window (clipped to the window)")              \
    X(susp_count,                                                              \
      "suspension",                                                            \
      "count",                                                                 \
      "停机次数",                                                              \
      "Suspensions overlapping the window")                                    \
    X(susp_avg_days,                                                           \
      "suspension",                                                            \
      "days",                                                                  \
      "平均停机时长",                                                          \
      "susp_days / susp_count")                                                \
    X(susp_max_days,                                                           \
      "suspension",                                                            \
      "days",                                                                  \
      "最大停机时长",                                                          \
      "Longest suspension, clipped to the window")                             \
    X(susp_arrears_count,                                                      \
      "suspension",                                                            \
      "count",                                                                 \
      "欠费停机次数",                                                          \
      "Suspensions for arrears")                                               \
    X(days_since_susp,                                                         \
      "suspension",                                                            \
      "days",                                                                  \
      "距上次停机天数",                                                        \
      "Days from the end of the last suspension (up to M) to the end of M")    \
    X(suspended_now,                                                           \
      "suspension",                                                            \
      "flag",                                                                  \
      "当前停机",                                                              \
      "1 if a suspension is open on the last day of M")                        \
    /* ---- mobility ---- */                                                   \
    X(cells_max,                                                               \
      "mobility",                                                              \
      "cells",                                                                 \
      "最大访问小区数",                                                        \
      "Largest monthly cells")                                                 \
    X(roaming_months,                                                          \
      "mobility",                                                              \
      "months",                                                                \
      "漫游月数",                                                              \
      "Months with roaming minutes")                                           \
    /* ---- service contacts ---- */                                           \
    X(svc_contacts, "service", "count", "客服接触次数", "Contacts in window")  \
    X(svc_bill_query, "service", "count", "账单查询", "contact_type")          \
    X(svc_tariff_enquiry, "service", "count", "资费咨询", "contact_type")      \
    X(svc_complaint, "service", "count", "投诉", "contact_type")               \
    X(svc_fault_report, "service", "count", "故障申告", "contact_type")        \
    X(svc_service_request, "service", "count", "业务办理", "contact_type")     \
    X(cmp_billing, "service", "count", "计费投诉", "complaint_category")       \
    X(cmp_network, "service", "count", "网络投诉", "complaint_category")       \
    X(cmp_service, "service", "count", "服务投诉", "complaint_category")       \
    X(cmp_product, "service", "count", "产品投诉", "complaint_category")       \
    X(cmp_marketing, "service", "count", "营销投诉", "complaint_category")     \
    X(ch_hotline, "service", "count", "热线接触", "channel")                   \
    X(ch_shop, "service", "count", "营业厅接触", "channel")                    \
    X(ch_web, "service", "count", "网站接触", "channel")                       \
    X(ch_app, "service", "count", "APP接触", "channel")                        \
    X(ch_sms, "service", "count", "短信接触", "channel")                       \
    X(ch_account_manager, "service", "count", "客户经理接触", "channel")       \
    XC(pref_channel_1,                                                         \
       "service",                                                              \
       "首选渠道",                                                             \
       "Most used contact channel: 0 hotline, 1 shop, 2 web, 3 app, 4 sms, "   \
       "5 account_manager; empty without contacts")                            \
    XC(pref_channel_2, "service", "次选渠道", "Second most used channel")      \
    XC(pref_slot_1,                                                            \
       "service",                                                              \
       "首选时段",                                                             \
       "Time slot of most contacts: 0 morning, 1 afternoon, 2 evening, 3 "     \
       "night")                                                                \
    XC(pref_slot_2, "service", "次选时段", "Second time slot")                 \
    X(svc_unresolved, "service", "count", "未解决次数", "resolved = 0")        \
    X(svc_satisfaction,                                                        \
      "service",                                                               \
      "score",                                                                 \
      "平均满意度",                                                            \
      "Mean satisfaction where surveyed")                                      \
    X(svc_last_month, "service", "count", "当月接触", "Contacts in M")         \
    X(complaints_last_month,                                                   \
      "service",                                                               \
      "count",                                                                 \
      "当月投诉",                                                              \
      "Complaints in M")                                                       \
    /* ---- network quality of the region ---- */                              \
    X(net_drop_rate,                                                           \
      "network",                                                               \
      "share",                                                                 \
      "区域掉话率",                                                            \
      "network_quality.drop_rate of the region, window mean")                  \
    X(net_coverage, "network", "score", "区域覆盖评分", "coverage")            \
    X(net_speed, "network", "Mbit/s", "区域网速", "data_speed_mbps")           \
    X(net_complaints,                                                          \
      "network",                                                               \
      "count",                                                                 \
      "区域网络投诉",                                                          \
      "network_complaints")                                                    \
    /* ---- plan fit ---- */                                                   \
    X(unused_voice_share,                                                      \
      "planfit",                                                               \
      "share",                                                                 \
      "语音余量占比",                                                          \
      "1 - outgoing minutes / plan minutes (0 when used up), window")          \
    X(unused_sms_share, "planfit", "share", "短信余量占比", "as above, SMS")   \
    X(unused_data_share, "planfit", "share", "流量余量占比", "as above, data") \
    X(overage_fee,                                                             \
      "planfit",                                                               \
      "yuan",                                                                  \
      "月均超套费",                                                            \
      "voice + sms + data fees, monthly mean")                                 \
    X(best_plan_saving,                                                        \
      "planfit",                                                               \
      "yuan",                                                                  \
      "最优套餐节省",                                                          \
      "ARPU minus the mean monthly cost of the window's usage under the "      \
      "cheapest plan for the payment type (catalog prices)")                   \
    X(best_plan_fee_diff,                                                      \
      "planfit",                                                               \
      "yuan",                                                                  \
      "最优套餐月费差",                                                        \
      "monthly_fee of that plan minus plan_fee")                               \
    X(overpay_flag,                                                            \
      "planfit",                                                               \
      "flag",                                                                  \
      "套餐不匹配",                                                            \
      "1 if best_plan_saving exceeds 20% of ARPU")                             \
    /* ---- social circle ---- */                                              \
    X(graph_contacts,                                                          \
      "social",                                                                \
      "numbers",                                                               \
      "通话对象数",                                                            \
      "Distinct called numbers in the window (call_graph)")                    \
    X(graph_onnet_contacts,                                                    \
      "social",                                                                \
      "numbers",                                                               \
      "网内对象数",                                                            \
      "Distinct called own subscribers")                                       \
    X(graph_onnet_share,                                                       \
      "social",                                                                \
      "share",                                                                 \
      "网内对象占比",                                                          \
      "graph_onnet_contacts / graph_contacts")                                 \
    X(graph_competitor_contacts,                                               \
      "social",                                                                \
      "numbers",                                                               \
      "异网对象数",                                                            \
      "Distinct called numbers of competitors")                                \
    X(graph_minutes,                                                           \
      "social",                                                                \
      "minutes",                                                               \
      "关系通话分钟",                                                          \
      "call_graph minutes, monthly mean")                                      \
    X(contacts_churned,                                                        \
      "social",                                                                \
      "numbers",                                                               \
      "流失联系人数",                                                          \
      "Called own subscribers who churned (closed, or suspended 7+ days) "     \
      "inside the window")                                                     \
    X(contacts_churned_share,                                                  \
      "social",                                                                \
      "share",                                                                 \
      "流失联系人占比",                                                        \
      "contacts_churned / graph_onnet_contacts")                               \
    X(graph_top_share,                                                         \
      "social",                                                                \
      "share",                                                                 \
      "最亲密联系人占比",                                                      \
      "Minutes with the most-called number / graph minutes")                   \
    /* ---- campaigns and contact lists ---- */                                \
    X(past_campaigns,                                                          \
      "campaign",                                                              \
      "count",                                                                 \
      "历史活动次数",                                                          \
      "Campaign assignments dated up to M")                                    \
    X(past_offers_accepted,                                                    \
      "campaign",                                                              \
      "count",                                                                 \
      "历史接受优惠",                                                          \
      "Offers accepted with response_date up to M")                            \
    X(months_since_campaign,                                                   \
      "campaign",                                                              \
      "months",                                                                \
      "距上次活动月数",                                                        \
      "Months from the last assignment to M; empty if none")                   \
    X(black_listed, "lists", "flag", "黑名单", "On the black list at M")       \
    X(grey_listed,                                                             \
      "lists",                                                                 \
      "flag",                                                                  \
      "灰名单",                                                                \
      "On the grey list (any channel) at M")                                   \
    X(red_listed, "lists", "flag", "红名单", "On the red list at M")

/* Helpers generating whole groups of features from the lists above. */
#define CVM__X_AVG(col, unit, zh) \
    X(avg_##col, "usage", unit, "月均" zh, "usage." #col ", monthly mean")
#define CVM__X_TREND(s, unit, zh)                              \
    X(slope_##s,                                               \
      "trend",                                                 \
      unit "/month",                                           \
      zh "趋势斜率",                                           \
      "Least-squares slope of monthly " #s " over the window") \
    X(ratio_##s,                                               \
      "trend",                                                 \
      "ratio",                                                 \
      zh "末首比",                                             \
      "Last month / first month of the window (" #s ")")       \
    X(drop_##s,                                                \
      "trend",                                                 \
      "share",                                                 \
      zh "环比降幅",                                           \
      "(previous month - M) / previous month (" #s ")")
#define CVM__X_CV(s, unit, zh) \
    X(cv_##s,                  \
      "variability",           \
      "ratio",                 \
      zh "变异系数",           \
      "Standard deviation / mean of monthly " #s)
#define CVM__X_VAS(t, zh)                                \
    X(vas_##t##_uses,                                    \
      "vas",                                             \
      "uses",                                            \
      zh "月均使用次数",                                 \
      "vas_usage.uses of " #t " products, monthly mean") \
    X(vas_##t##_active,                                  \
      "vas",                                             \
      "flag",                                            \
      zh "在订",                                         \
      "1 if a " #t " subscription is active at the end of M")

#endif
