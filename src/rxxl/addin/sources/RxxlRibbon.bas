Attribute VB_Name = "RxxlRibbon"
Option Explicit

' The one callback of every "Rx Finance" button: Python decides what a button does
' (rxxl.ribbon.dispatch), so adding a button never needs new VBA.
Public Sub RxRibbonAction(control As IRibbonControl)
    RunPython "import rxxl.ribbon; rxxl.ribbon.dispatch('" & control.Id & "')"
End Sub
