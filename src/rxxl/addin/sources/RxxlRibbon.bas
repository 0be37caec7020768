Attribute VB_Name = "RxxlRibbon"
Option Explicit

' The ribbon's callbacks. Every "Rx Finance" button calls RxRibbonAction: Python decides what
' a button does (rxxl.ribbon.dispatch), so adding a button never needs new VBA.
' Each public procedure here catches its own errors and says in a message box what happened
' and what to do: an uncaught error would show VBA's run-time error dialog, whose Debug
' button opens the add-in's code in front of a finance user.

Private Const RX_TITLE As String = "Rx Finance"

' The rxxl and xlwings versions this add-in was built with, written by `rxxl addin build`.
' Every button hands them to Python (rxxl.ribbon), which can then say when the installed
' rxxl or xlwings no longer matches the add-in; Help/About shows them even when Python
' cannot start.
Public Const RXXL_BUILT_VERSION As String = "unknown"
Public Const XLWINGS_BUILT_VERSION As String = "unknown"

' Excel calls this once when it loads the add-in's ribbon (customUI onLoad), as Excel starts.
' Excel keeps a function's category and argument help only for the session, so they are
' registered here each time (what xlwings' "Import Functions" does once). Not on opening the
' workbook: macro scanners flag code that runs on opening and also writes files or starts
' programs (RunPython does both), and hospital mail gateways stop such files.
Public Sub RxRibbonLoaded(ribbon As IRibbonUI)
    On Error GoTo failed
    RxRegisterFunctions
    Exit Sub
failed:
    MsgBox "The RX_ functions work, but their help for Insert Function could not be" & _
        " registered (VBA error " & Err.Number & ": " & Err.Description & ")." & vbLf & vbLf & _
        "If this shows every time Excel starts, run rxxl addin install again in a command" & _
        " prompt and restart Excel.", vbExclamation, RX_TITLE
End Sub

Public Sub RxRibbonAction(control As IRibbonControl)
    Dim problem As String, outcome As Variant
    On Error GoTo failed
    ' What a locked-down PC gets wrong is checked first, while it can still be named;
    ' inside xlwings' RunPython the same causes surface as bare VBA error numbers.
    problem = RxCannotRun()
    If problem <> "" Then
        MsgBox problem, vbExclamation, RX_TITLE
        Exit Sub
    End If
    ' Plain assignments, so the command works with any rxxl, even one without a version check.
    outcome = RunPython("import rxxl.ribbon; rxxl.ribbon.RXXL_BUILT_VERSION = '" & _
        RXXL_BUILT_VERSION & "'; rxxl.ribbon.XLWINGS_BUILT_VERSION = '" & _
        XLWINGS_BUILT_VERSION & "'; rxxl.ribbon.dispatch('" & control.Id & "')")
    ' RunPython has shown Python's error already; Help/About adds what the add-in knows.
    If control.Id = "rx_help" And outcome = -1 Then
        MsgBox "Help/About could not run Python. " & RxBuiltWith(), vbExclamation, RX_TITLE
    End If
    Exit Sub
failed:
    MsgBox RxFailure(Err.Number, Err.Description), vbCritical, RX_TITLE
End Sub

' Why a button cannot run now, as a message for the user; "" when nothing is in the way.
Private Function RxCannotRun() As String
    #If Not Mac Then
        ' A Protected View window has no ActiveWorkbook; RunPython would fail on it.
        If Not Application.ActiveProtectedViewWindow Is Nothing Then
            RxCannotRun = "This workbook is open in Protected View, where add-ins cannot" & _
                " read or change it." & vbLf & vbLf & "If you trust the file, click" & _
                " Enable Editing in the yellow bar above the sheet, then click the button again."
            Exit Function
        End If
    #End If
    ' Only the add-in is open (an add-in is never the active workbook).
    If ActiveWorkbook Is Nothing Then
        RxCannotRun = RxNoWorkbookMessage()
        Exit Function
    End If
    RxCannotRun = RxDuplicateSetting(ActiveWorkbook)
    If RxCannotRun <> "" Then Exit Function
    RxCannotRun = RxDuplicateSetting(ThisWorkbook)
    If RxCannotRun <> "" Then Exit Function
    #If Not Mac Then
        If RxShellBlocked() Then RxCannotRun = RxShellMessage("")
    #End If
End Function

' The first problem in wb's rxxl.conf sheet that stops xlwings reading it, as a message.
' xlwings reads column A from A1 down to the first blank cell into a dictionary keyed by the
' upper-cased name: a name listed twice raises error 457 and an error value (#N/A) error 13,
' in every button and every RX_ cell of the workbook.
Private Function RxDuplicateSetting(ByVal wb As Workbook) As String
    Dim sheet As Worksheet, settingNames As Variant, nextName As Variant, seen As Collection
    Dim last As Long, row As Long, key As String, first As Variant, where As String
    If wb Is Nothing Then Exit Function
    On Error Resume Next
    Set sheet = wb.Worksheets(PROJECT_NAME & ".conf")
    On Error GoTo 0
    If sheet Is Nothing Then Exit Function
    where = "the sheet " & sheet.Name & " in " & wb.Name
    last = 1
    nextName = sheet.Range("A2").Value
    If IsError(nextName) Then
        last = 2
    ElseIf CStr(nextName) <> "" Then
        last = sheet.Range("A1").End(xlDown).Row
    End If
    If last = 1 Then
        ReDim settingNames(1 To 1, 1 To 1)
        settingNames(1, 1) = sheet.Range("A1").Value
    Else
        settingNames = sheet.Range("A1:A" & last).Value
    End If
    Set seen = New Collection
    For row = 1 To last
        If IsError(settingNames(row, 1)) Then
            RxDuplicateSetting = "Cell A" & row & " of " & where & " shows an error" & _
                " instead of a setting name." & vbLf & vbLf & "Type the setting's name" & _
                " there (or delete the row), then click the button again."
            Exit Function
        End If
        key = UCase$(CStr(settingNames(row, 1)))
        If key <> "" Then
            first = Empty
            On Error Resume Next
            first = seen(key)
            On Error GoTo 0
            If Not IsEmpty(first) Then
                RxDuplicateSetting = "T" & Mid$(where, 2) & " lists the setting " & Left$(key, 60) & _
                    " twice, in rows " & first & " and " & row & "." & vbLf & vbLf & _
                    "Delete one of them (keep one row per setting), then click the button again."
                Exit Function
            End If
            seen.Add row, key
        End If
    Next row
End Function

' Whether Windows refuses to create WScript.Shell, which RunPython uses to start Python
' (a Group Policy or a Defender attack surface reduction rule can block it for Office).
Private Function RxShellBlocked() As Boolean
    Dim host As Object
    On Error Resume Next
    Set host = CreateObject("WScript.Shell")
    RxShellBlocked = (Err.Number <> 0) Or (host Is Nothing)
    On Error GoTo 0
End Function

Private Function RxNoWorkbookMessage() As String
    RxNoWorkbookMessage = "No workbook is open, so there is nothing for Rx Finance to work on." & _
        vbLf & vbLf & "Open the workbook you want to work on (or create one with File > New)," & _
        " then click the button again."
End Function

Private Function RxShellMessage(ByVal detail As String) As String
    RxShellMessage = "Windows did not let Excel start Python" & detail & "." & vbLf & vbLf & _
        "A security setting on this PC blocks the WScript.Shell object, which the add-in" & _
        " uses to start Python. Please ask IT to allow WScript.Shell for Excel add-ins" & _
        " (and to check any attack surface reduction rule that stops Office starting programs)." & _
        " Meanwhile the monthly report can be built from a command prompt: rxxl report --help."
End Function

' The message for an error caught inside a button; the causes a user can fix are named.
Private Function RxFailure(ByVal number As Long, ByVal description As String) As String
    Select Case number
        Case 91
            ' Object variable not set: xlwings read ActiveWorkbook while none was active.
            RxFailure = RxNoWorkbookMessage()
        Case 457
            ' Key already associated: a setting listed twice in an rxxl.conf sheet.
            RxFailure = "A sheet named " & PROJECT_NAME & ".conf lists the same setting twice." & _
                vbLf & vbLf & "Delete one of the two rows (keep one row per setting), then" & _
                " click the button again."
        Case 429, 70, -2147024891
            ' Cannot create object / permission denied / E_ACCESSDENIED from CreateObject.
            RxFailure = RxShellMessage(" (VBA error " & number & ": " & description & ")")
        Case Else
            RxFailure = "The Rx Finance button stopped with VBA error " & number & ": " & _
                description & vbLf & vbLf & "Nothing more ran. " & RxBuiltWith()
    End Select
End Function

' The versions the add-in was built with, and the command that rebuilds it for this PC.
Private Function RxBuiltWith() As String
    RxBuiltWith = "This add-in was built with rxxl " & RXXL_BUILT_VERSION & " and xlwings " & _
        XLWINGS_BUILT_VERSION & "." & vbLf & vbLf & "If rxxl, xlwings or Python changed" & _
        " since, run rxxl addin install in a command prompt (it rebuilds the add-in for" & _
        " the rxxl you have), restart Excel and click the button again."
End Function
